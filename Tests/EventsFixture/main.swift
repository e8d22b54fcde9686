import AgnostBundle
import Foundation

@testable import AgnostEvents

// `EventsFixture <directory> [writers]` appends messages to the event log in `directory`, [writers] of them per
// commit as the hub batches concurrent senders, and prints `ok <id>` for each once the commit is on disk. The
// test that starts it kills it at a random moment and checks that every printed id survived; the writer count
// gives a rough measure of throughput.
//
// `EventsFixture hub <directory> [server URL]` runs a hub with one queue, `jobs`, of the version `bench-v1` whose
// internal token is `bench`, and prints its ingress URL and the queue sender token: a target for a load generator.
let arguments = CommandLine.arguments
if arguments.count > 2 && arguments[1] == "hub" {
    let manifest = BundleManifest(
        app: "bench",
        version: "v1",
        specDigest: "sha256:0",
        build: BuildInfo(configuration: "release", toolchain: "swift", inputDigest: "sha256:0"),
        endpoints: [],
        queues: [QueuePlan(name: "jobs", handler: "h", retries: 3, delayMilliseconds: 0)]
    )
    let configuration = EventHubConfiguration(
        manifest: manifest,
        stateDirectory: URL(fileURLWithPath: arguments[2]),
        serverURL: arguments.count > 3 ? arguments[3] : nil,
        internalToken: "bench"
    )
    try await withEventHub(configuration) { hub in
        let line = "\(await hub.ingressURL) \(SenderToken.derive(from: "bench", for: .queue))\n"
        FileHandle.standardOutput.write(Data(line.utf8))
        try await Task.sleep(for: .seconds(86_400))
    }
    exit(0)
}

let directory = URL(fileURLWithPath: arguments[1])
let (log, records) = try EventLog.open(directory: directory)
let first =
    records.reduce(0) { highest, record in
        guard case .accepted(let sequence, _, _, _) = record else { return highest }
        return max(highest, sequence)
    } + 1
let writers = arguments.count > 2 ? Int(arguments[2]) ?? 8 : 8
let output = FileHandle.standardOutput

// As the hub does with the requests of one event-loop pass: a record per writer staged, then one commit for all.
var sequence = first
while true {
    var ids: [String] = []
    for _ in 0..<writers {
        let id = "m\(sequence)"
        let message = QueueMessage(
            queue: "jobs",
            attributes: ["specversion": "1.0", "id": id, "source": "/writer", "type": "t"],
            contentType: "application/octet-stream",
            body: Array(repeating: UInt8(truncatingIfNeeded: sequence), count: Int(sequence % 300))
        )
        log.stage([.accepted(sequence: sequence, message: message, attempt: 1, dueAt: Date())])
        ids.append(id)
        sequence += 1
    }
    do {
        try log.commit()
    } catch {
        FileHandle.standardError.write(Data("\(error)\n".utf8))
        exit(1)
    }
    output.write(Data(ids.map { "ok \($0)\n" }.joined().utf8))
}
