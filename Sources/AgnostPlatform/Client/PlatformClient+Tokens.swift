import Foundation

extension PlatformClient {
    /// Revokes the platform token whose id is `id`, the 16 letters and digits after `agp_`: from the next request on
    /// it opens nothing. Revoking a revoked token succeeds again.
    ///
    /// ```swift
    /// try await client.revokeToken(id: "3kQ9xT0bLm2RvW7a")
    /// let record = try await client.token(id: "3kQ9xT0bLm2RvW7a")   // its revokedAt is set
    /// ```
    ///
    /// - Throws: ``PlatformClientError`` with the platform's reason: 404 for no such token, 409 for the last admin
    ///   token for every app.
    public func revokeToken(id: String) async throws(PlatformClientError) {
        _ = try await call("DELETE", "/tokens/\(Self.segment(id))")
    }

    /// The record of token `id` as the platform lists it (never the token itself): an answer whose body is that one
    /// item of `GET /tokens`, decodable as ``PlatformViews/Token``.
    ///
    /// - Throws: ``PlatformClientError`` with status 404 when no page of the list has it.
    public func token(id: String) async throws(PlatformClientError) -> PlatformAnswer {
        var after: String?
        repeat {
            let path = "/tokens?limit=500" + (after.map { "&after=\(Self.segment($0))" } ?? "")
            let answer = try await call("GET", path)
            let page = try answer.decode(PlatformViews.Page<PlatformViews.Token>.self, context: "GET /tokens")
            after = page.next
            guard let index = page.items.firstIndex(where: { $0.id == id }) else { continue }
            // The item's own JSON, from the list as it came: fields this client does not know are kept.
            let items = (try? JSONSerialization.jsonObject(with: Data(answer.body)) as? [String: Any])?["items"]
            guard let item = (items as? [Any])?[index],
                let json = try? JSONSerialization.data(withJSONObject: item, options: [.sortedKeys])
            else {
                throw PlatformClientError(
                    .invalidAnswer,
                    "the platform's answer to GET /tokens is not what its API describes: its items are not JSON objects",
                    context: "GET /tokens"
                )
            }
            return PlatformAnswer(status: answer.status, etag: nil, location: nil, body: Array(json))
        } while after != nil
        throw PlatformClientError(.refused, "no token has id '\(id)'", status: 404, context: "GET /tokens")
    }
}
