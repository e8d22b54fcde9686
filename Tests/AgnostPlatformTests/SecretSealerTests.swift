import AgnostPlatform
import Foundation
import Testing

@Suite struct SecretSealerTests {
    let key = (0..<32).map { UInt8($0 * 7 % 256) }

    @Test func aSealedSecretOpensForItsRecordAndHidesItsText() throws {
        let sealer = try SecretSealer(key: key)
        let secret = Array("p@ssw0rd-é".utf8)
        let sealed = try sealer.seal(secret, for: "resource maindb")
        #expect(sealed.count == 1 + 12 + secret.count + 16)
        #expect(!sealed.indices.dropLast(secret.count - 1).contains { Array(sealed[$0..<$0 + secret.count]) == secret })
        #expect(try sealer.open(sealed, for: "resource maindb") == secret)
        // A fresh nonce each time: the same secret never seals to the same bytes.
        #expect(try sealer.seal(secret, for: "resource maindb") != sealed)
        #expect(try sealer.open(try sealer.seal([], for: "r"), for: "r") == [])
    }

    @Test func aSecretDoesNotOpenForAnotherRecordUnderAnotherKeyOrAltered() throws {
        let sealer = try SecretSealer(key: key)
        let sealed = try sealer.seal(Array("s3cret".utf8), for: "resource maindb")
        var errors: [PlatformError] = []
        func attempt(_ body: () throws(PlatformError) -> [UInt8]) {
            do throws(PlatformError) { _ = try body() } catch { errors.append(error) }
        }
        attempt { () throws(PlatformError) in try sealer.open(sealed, for: "resource cache") }
        attempt { () throws(PlatformError) in
            try SecretSealer(key: key.reversed()).open(sealed, for: "resource maindb")
        }
        for index in sealed.indices {
            var altered = sealed
            altered[index] ^= 0x01
            attempt { () throws(PlatformError) in try sealer.open(altered, for: "resource maindb") }
        }
        attempt { () throws(PlatformError) in try sealer.open(Array(sealed.prefix(20)), for: "resource maindb") }
        #expect(errors.count == 3 + sealed.count)
        #expect(errors.allSatisfy { $0.code == .unsealable })
        #expect(errors.allSatisfy { !$0.message.contains("s3cret") })
    }

    @Test(arguments: ["", "  \n", "bm90IGJhc2U2NA", "c2hvcnQ=", String(repeating: "A", count: 60)])
    func aMissingOrMalformedKeyIsRefusedWithAdvice(_ text: String) {
        #expect {
            _ = try SecretSealer(base64Key: text, source: "AGNOST_PLATFORM_KEY")
        } throws: { error in
            guard let error = error as? PlatformError else { return false }
            return error.code == .invalidKey && error.message.contains("AGNOST_PLATFORM_KEY")
                && error.message.contains("openssl rand -base64 32")
        }
    }

    @Test func aBase64KeyWithATrailingNewlineIsRead() throws {
        let text = Data(key).base64EncodedString() + "\n"
        let sealer = try SecretSealer(base64Key: text, source: "platform.key")
        let sealed = try sealer.seal([1, 2, 3], for: "r")
        #expect(try SecretSealer(key: key).open(sealed, for: "r") == [1, 2, 3])
    }
}
