import AgnostPlatform
import Foundation

// `StoreFixture <database> <writers>` keeps `writers` creates of app records in flight at once in the SQLite store
// at `database` (each writer starts its next as soon as its last is done, so group commits batch them) and prints
// `ok <name>` for each once the store reported it durable, until it is killed. The durability test kills it at a
// random moment and checks that every printed name survived, in a database that passes its integrity check.
let arguments = CommandLine.arguments
guard arguments.count == 3, let count = Int(arguments[2]) else {
    FileHandle.standardError.write(Data("usage: StoreFixture DATABASE WRITERS\n".utf8))
    exit(2)
}
let run = String(UInt64(Date().timeIntervalSince1970 * 1_000_000))
try await withSQLiteStore(path: arguments[1]) { store in
    await withTaskGroup(of: Void.self) { group in
        for writer in 0..<count {
            group.addTask {
                for round in 0... {
                    let name = "\(run)-\(writer)-\(round)"
                    do {
                        let body = Array(#"{"name":"\#(name)"}"#.utf8)
                        _ = try await store.create(RecordKey(.app, name: name), body: body)
                    } catch {
                        FileHandle.standardError.write(Data("\(name): \(error)\n".utf8))
                        exit(1)
                    }
                    FileHandle.standardOutput.write(Data("ok \(name)\n".utf8))
                }
            }
        }
    }
}
