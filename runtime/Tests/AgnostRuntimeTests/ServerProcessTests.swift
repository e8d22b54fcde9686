import Foundation
import Testing

@Suite(.serialized)
struct ServerProcessTests {
    private func environment(_ bundle: String, _ extra: [String: String] = [:]) -> [String: String] {
        ["PORT": "0", "AGNOST_HOST": "127.0.0.1", "AGNOST_BUNDLE": bundle, "K_SERVICE": "fixture-v1"]
            .merging(extra) { _, new in new }
    }

    @Test func servesOverHTTPAndReportsTheKnativeService() async throws {
        let server = try ServerProcess(environment: environment(try writeFixtureBundle()))
        let port = try await server.waitForPort()
        let listening = try await server.waitForLine(containing: "\"listening\"")
        #expect(listening.contains("\"K_SERVICE\":\"fixture-v1\""))
        #expect(listening.contains("\"app\":\"fixture\""))
        let response = try RawHTTP.get(port: port, path: "/hello/ada")
        #expect(response.status == 200)
        #expect(response.body == "hello, ada")
        kill(server.process.processIdentifier, SIGTERM)
        #expect(try await server.waitForExit() == 0)
    }

    @Test func sigtermStopsAcceptingLetsTheInFlightRequestFinishAndExitsZero() async throws {
        let server = try ServerProcess(environment: environment(try writeFixtureBundle()))
        let port = try await server.waitForPort()
        let inFlight = Task.detached { try RawHTTP.get(port: port, path: "/slow?ms=1500") }
        _ = try await server.waitForLine(containing: "slow request started")
        let signalled = ContinuousClock.now
        kill(server.process.processIdentifier, SIGTERM)
        try await Task.sleep(for: .milliseconds(300))
        #expect(throws: RawConnection.ConnectionRefused.self) { try RawHTTP.get(port: port, path: "/hello/late") }
        let response = try await inFlight.value
        #expect(response.status == 200)
        #expect(response.body == "finished after 1500ms")
        #expect(try await server.waitForExit() == 0)
        #expect(server.process.terminationReason == .exit)
        #expect(ContinuousClock.now - signalled < .seconds(7))
        #expect(server.lines.contains { $0.contains("stopped after draining in-flight requests") })
    }

    @Test func missingBundleExitsOneWithAnErrorOnStderr() async throws {
        let server = try ServerProcess(environment: environment("/nonexistent/bundle.json"))
        #expect(try await server.waitForExit() == 1)
        #expect(
            server.standardError.hasPrefix(
                "error: cannot read the bundle manifest /nonexistent/bundle.json; set AGNOST_BUNDLE"
            )
        )
    }

    @Test func occupiedPortExitsOneNamingIt() async throws {
        let bundle = try writeFixtureBundle()
        let first = try ServerProcess(environment: environment(bundle))
        let port = try await first.waitForPort()
        let second = try ServerProcess(environment: environment(bundle, ["PORT": "\(port)"]))
        #expect(try await second.waitForExit() == 1)
        #expect(
            second.standardError
                == "error: cannot listen on 127.0.0.1:\(port): the address is already in use; set PORT to a free port\n"
        )
        kill(first.process.processIdentifier, SIGTERM)
        #expect(try await first.waitForExit() == 0)
    }
}
