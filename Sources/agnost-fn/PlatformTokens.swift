import AgnostPlatform
import ArgumentParser
import Foundation

extension PlatformCommand {
    struct NewAdminToken: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "new-admin-token",
            abstract: "Print a fresh platform token, for AGNOST_PLATFORM_ADMIN_TOKEN; it needs no platform.",
            discussion: """
                The token is printed on stdout and stored nowhere. Put it in AGNOST_PLATFORM_ADMIN_TOKEN (on \
                Kubernetes, in the platform's Secret) before the platform's first start: 'platform serve' then keeps \
                its hash as the first admin token instead of making one and printing it into the log.
                """
        )

        func run() throws {
            do throws(PlatformError) {
                print(try Platform.newToken())
            } catch {
                Console.error(error.message)
                throw ExitCode.failure
            }
        }
    }

    struct Tokens: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List, create and revoke the platform's tokens (admin for every app).",
            subcommands: [List.self, Create.self, Revoke.self],
            defaultSubcommand: List.self
        )

        struct List: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "The platform's tokens, revoked ones too, without the tokens themselves."
            )
            @OptionGroup var platform: PlatformOptionGroup
            @OptionGroup var output: OutputOptions

            func run() async throws {
                let answer = try await PlatformCall(platform).callAndExit("GET", "/tokens?limit=500")
                try output.show(answer, as: PlatformViews.Page<PlatformViews.Token>.self, context: "GET /tokens") {
                    Table.lines(["ID", "NAME", "ROLE", "APPS", "REVOKED"], $0.items.map(Tokens.row))
                }
            }
        }

        static func row(_ token: PlatformViews.Token) -> [String] {
            [
                token.id, token.name, token.role, token.apps?.joined(separator: ",") ?? "(every app)",
                token.revokedAt?.formatted(.iso8601) ?? "-",
            ]
        }

        struct Create: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Create a token; it is printed this once, on stdout, as only its hash is kept."
            )
            @OptionGroup var platform: PlatformOptionGroup
            @OptionGroup var output: OutputOptions
            @Argument(help: "The token's name, for people: who or what holds it.") var name: String
            @Option(help: "viewer, deployer or admin.") var role: String
            @Option(help: "An app the token is limited to, repeatable; without it, every app.") var app: [String] = []

            func validate() throws {
                guard ["viewer", "deployer", "admin"].contains(role) else {
                    throw ValidationError("--role takes viewer, deployer or admin; not '\(role)'")
                }
            }

            func run() async throws {
                let answer = try await PlatformCall(platform).callAndExit(
                    "POST",
                    "/tokens",
                    body: json(["name": name, "role": role, "apps": app.isEmpty ? nil : app])
                )
                try output.show(answer, as: PlatformViews.CreatedToken.self, context: "POST /tokens") { created in
                    Console.status(
                        "created token \(created.record.id) (\(created.record.name)); it is shown this once:"
                    )
                    return [created.token]
                }
            }
        }

        struct Revoke: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Revoke a token; from its next request on it opens nothing, and its record stays listed.",
                discussion: """
                    With --output json, the token's record as the list shows it now, with its revokedAt; when the \
                    token revoked is the one this command used, nothing, as the platform no longer answers it.
                    """
            )
            @OptionGroup var platform: PlatformOptionGroup
            @OptionGroup var output: OutputOptions
            @Argument(help: "The token's id: the ID column of 'platform tokens list'.") var id: String

            func validate() throws {
                // A whole token pasted here would end up in shell history and in the answer's message: not repeated.
                guard !id.hasPrefix("agp_") else {
                    throw ValidationError(
                        "give the token's id (the ID column of 'agnost-fn platform tokens list'), not the token itself"
                    )
                }
            }

            func run() async throws {
                let client = try platform.client()
                try await Console.platform { () async throws(PlatformClientError) in
                    try await client.revokeToken(id: id)
                }
                Console.status("revoked token \(id)")
                guard output.output == .json else { return }
                let record = try await Console.platform { () async throws(PlatformClientError) -> PlatformAnswer? in
                    do throws(PlatformClientError) {
                        return try await client.token(id: id)
                    } catch  where error.status == 401 {
                        // The token this command used was the one revoked: the platform answers it no more.
                        return nil
                    }
                }
                guard let record else {
                    Console.status("it was the token this command used, so its record cannot be read with it")
                    return
                }
                try output.show(record, as: PlatformViews.Token.self, context: "GET /tokens") { _ in [] }
            }
        }
    }
}
