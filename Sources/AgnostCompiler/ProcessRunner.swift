import Foundation

/// Runs a tool to completion with stdout and stderr merged, optionally passing output on as it arrives.
enum ProcessRunner {
    struct Outcome {
        let status: Int32
        let output: String
    }

    /// - Parameter arguments: the command and its arguments, looked up on `PATH`.
    /// - Parameter environment: variables set over this process's own.
    static func run(
        _ arguments: [String],
        in directory: URL? = nil,
        environment: [String: String] = [:],
        onOutput: ((String) -> Void)? = nil
    ) throws(CompilerError) -> Outcome {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        process.currentDirectoryURL = directory
        if !environment.isEmpty {
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, set in set }
        }
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        process.standardInput = FileHandle.nullDevice
        do {
            try process.run()
        } catch {
            throw CompilerError(.toolFailed, "could not run '\(arguments.joined(separator: " "))': \(error)")
        }
        // Read until EOF before waiting: a full pipe would otherwise block the tool forever.
        var collected = Data()
        let reader = pipe.fileHandleForReading
        while case let chunk = reader.availableData, !chunk.isEmpty {
            collected.append(chunk)
            onOutput?(String(decoding: chunk, as: UTF8.self))
        }
        process.waitUntilExit()
        return Outcome(status: process.terminationStatus, output: String(decoding: collected, as: UTF8.self))
    }
}
