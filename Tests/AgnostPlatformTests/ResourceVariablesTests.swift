import AgnostSpec
import Foundation
import Testing

@testable import AgnostPlatform

/// The settings a linked resource gives a version: every one that can be known, from parts or from a URI.
@Suite struct ResourceVariablesTests {
    func resource(_ type: ResourceType, _ settings: ConnectionSettings) -> Resource {
        Resource(
            name: "r",
            app: nil,
            type: type,
            settings: settings,
            secrets: SealedSecrets(),
            createdAt: Date(),
            updatedAt: Date()
        )
    }

    func settings(_ resource: Resource, password: String? = nil, uri: String? = nil) -> [String: String] {
        Dictionary(
            ResourceVariables.settings(of: resource, password: password, uri: uri).map { ($0.0.rawValue, $0.1) },
            uniquingKeysWith: { first, _ in first }
        )
    }

    @Test func partsMakeAURIOfTheTypesScheme() {
        let postgres = settings(
            resource(.postgres, ConnectionSettings(host: "db", database: "app", user: "u@x", tls: true)),
            password: "p/w:1"
        )
        // A colon may stay in the password: the user ends at the first one.
        #expect(postgres["URI"] == "postgresql://u%40x:p%2Fw:1@db:5432/app?sslmode=require")
        #expect(postgres["PORT"] == "5432" && postgres["TLS"] == "true" && postgres["PASSWORD"] == "p/w:1")
        let mongo = settings(resource(.mongodb, ConnectionSettings(host: "m", options: ["replicaSet": "rs 0"])))
        #expect(mongo["URI"] == "mongodb://m:27017?replicaSet=rs%200")
        #expect(mongo["OPTIONS"] == "replicaSet=rs%200")
        #expect(settings(resource(.rabbitmq, ConnectionSettings(host: "q", tls: true)))["URI"] == "amqps://q:5671")
        #expect(
            settings(resource(.redis, ConnectionSettings(host: "c")), password: "pw")["URI"] == "redis://:pw@c:6379"
        )
        #expect(settings(resource(.s3, ConnectionSettings(host: "s3.local")))["URI"] == nil)
    }

    @Test func aURIGivesItsParts() {
        let given = settings(
            resource(.postgres, ConnectionSettings()),
            uri: "postgresql://app:s%40cret@db.internal:6543/orders?sslmode=verify-full"
        )
        #expect(given["URI"] == "postgresql://app:s%40cret@db.internal:6543/orders?sslmode=verify-full")
        #expect(given["HOST"] == "db.internal" && given["PORT"] == "6543" && given["DATABASE"] == "orders")
        #expect(given["USER"] == "app" && given["PASSWORD"] == "s@cret")
        #expect(given["OPTIONS"] == "sslmode=verify-full")
    }
}
