import Foundation

@testable import AgnostEvents

// Appends messages to the event log in the directory given as the first argument, from several tasks at once so
// that group commits batch them, and prints `ok <id>` for each once the log reported it on disk. The test that
// starts it kills it at a random moment and checks that every printed id survived.
let directory = URL(fileURLWithPath: CommandLine.arguments[1])
let (log, records) = try EventLog.open(directory: directory)
let first =
    records.reduce(0) { highest, record in
        guard case .accepted(let sequence, _, _, _) = record else { return highest }
        return max(highest, sequence)
    } + 1
let writers = 8
let output = FileHandle.standardOutput

await withTaskGroup(of: Void.self) { group in
    for writer in 0..<writers {
        group.addTask {
            var sequence = first + UInt64(writer)
            while true {
                let id = "m\(sequence)"
                let message = QueueMessage(
                    queue: "jobs",
                    attributes: ["specversion": "1.0", "id": id, "source": "/writer", "type": "t"],
                    contentType: "application/octet-stream",
                    body: Array(repeating: UInt8(truncatingIfNeeded: sequence), count: Int(sequence % 300))
                )
                let record = EventRecord.accepted(sequence: sequence, message: message, attempt: 1, dueAt: Date())
                do {
                    try await log.append([record])
                } catch {
                    FileHandle.standardError.write(Data("\(error)\n".utf8))
                    exit(1)
                }
                output.write(Data("ok \(id)\n".utf8))
                sequence += UInt64(writers)
            }
        }
    }
}
