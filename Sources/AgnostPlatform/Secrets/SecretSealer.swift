internal import COpenSSL
import Foundation

/// Seals the secret fields of resources (passwords, URIs with credentials) with AES-256-GCM under the platform
/// key, so that the store holds only ciphertext, and opens them when a deployment needs them.
///
/// A sealed value is a format byte (1), a random 12-byte nonce, the ciphertext and the 16-byte tag. The record it
/// belongs to is authenticated with it (as GCM's additional data), so a sealed value moved to another record does
/// not open there.
///
/// ```swift
/// let sealer = try SecretSealer(base64Key: environment["AGNOST_PLATFORM_KEY"] ?? "", source: "AGNOST_PLATFORM_KEY")
/// let sealed = try sealer.seal(Array("s3cret".utf8), for: "resource maindb")
/// let password = try sealer.open(sealed, for: "resource maindb")
/// ```
public struct SecretSealer: Sendable {
    static let keySize = 32
    static let nonceSize = 12
    static let tagSize = 16
    static let format: UInt8 = 1

    /// How to make a key, for the messages that ask for one.
    public static let keyAdvice =
        "make one with 'openssl rand -base64 32' and keep it safe: without it, the stored "
        + "secrets cannot be read"

    private let key: [UInt8]

    /// A sealer under `key`, which must be 32 bytes.
    public init(key: [UInt8]) throws(PlatformError) {
        guard key.count == Self.keySize else {
            throw PlatformError(
                .invalidKey,
                "the platform key is \(key.count) bytes, not \(Self.keySize); \(Self.keyAdvice)",
                context: "key"
            )
        }
        self.key = key
    }

    /// A sealer under the base64 key `text`, read from `source` (a file or a variable), which the messages name.
    public init(base64Key text: String, source: String) throws(PlatformError) {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty else {
            throw PlatformError(.invalidKey, "no platform key in \(source); \(Self.keyAdvice)", context: source)
        }
        guard let decoded = Data(base64Encoded: trimmed), decoded.count == Self.keySize else {
            throw PlatformError(
                .invalidKey,
                "the platform key in \(source) is not \(Self.keySize) bytes in base64; \(Self.keyAdvice)",
                context: source
            )
        }
        key = Array(decoded)
    }

    /// `plaintext` sealed for the record named `record`.
    public func seal(_ plaintext: [UInt8], for record: String) throws(PlatformError) -> [UInt8] {
        var nonce = [UInt8](repeating: 0, count: Self.nonceSize)
        guard RAND_bytes(&nonce, Int32(nonce.count)) == 1 else {
            throw PlatformError(.crypto, "the system's random source failed", context: record)
        }
        let context = try CipherContext(record)
        var ciphertext = [UInt8](repeating: 0, count: plaintext.count + Self.tagSize)
        var tag = [UInt8](repeating: 0, count: Self.tagSize)
        var length: Int32 = 0
        var finalLength: Int32 = 0
        let additional = Array(record.utf8)
        let sealed =
            EVP_EncryptInit_ex(context.handle, EVP_aes_256_gcm(), nil, nil, nil) == 1
            && EVP_CIPHER_CTX_ctrl(context.handle, EVP_CTRL_GCM_SET_IVLEN, Int32(Self.nonceSize), nil) == 1
            && EVP_EncryptInit_ex(context.handle, nil, nil, key, nonce) == 1
            && EVP_EncryptUpdate(context.handle, nil, &length, additional, Int32(additional.count)) == 1
            && EVP_EncryptUpdate(context.handle, &ciphertext, &length, plaintext, Int32(plaintext.count)) == 1
            && ciphertext.withUnsafeMutableBufferPointer {
                EVP_EncryptFinal_ex(context.handle, $0.baseAddress! + Int(length), &finalLength)
            } == 1
            && EVP_CIPHER_CTX_ctrl(context.handle, EVP_CTRL_GCM_GET_TAG, Int32(Self.tagSize), &tag) == 1
        guard sealed else { throw PlatformError(.crypto, "libcrypto could not seal a secret", context: record) }
        return [Self.format] + nonce + ciphertext.prefix(Int(length + finalLength)) + tag
    }

    /// The plaintext of `sealed`, which must have been sealed for `record` under this key.
    ///
    /// - Throws: ``PlatformError`` with `unsealable` when it was not, or was altered.
    public func open(_ sealed: [UInt8], for record: String) throws(PlatformError) -> [UInt8] {
        let overhead = 1 + Self.nonceSize + Self.tagSize
        guard sealed.count >= overhead, sealed[0] == Self.format else {
            throw PlatformError(.unsealable, "the sealed secret of \(record) is not in a known format", context: record)
        }
        let nonce = Array(sealed[1..<1 + Self.nonceSize])
        let ciphertext = Array(sealed[(1 + Self.nonceSize)..<(sealed.count - Self.tagSize)])
        var tag = Array(sealed.suffix(Self.tagSize))
        let context = try CipherContext(record)
        var plaintext = [UInt8](repeating: 0, count: ciphertext.count + Self.tagSize)
        var length: Int32 = 0
        var finalLength: Int32 = 0
        let additional = Array(record.utf8)
        let opened =
            EVP_DecryptInit_ex(context.handle, EVP_aes_256_gcm(), nil, nil, nil) == 1
            && EVP_CIPHER_CTX_ctrl(context.handle, EVP_CTRL_GCM_SET_IVLEN, Int32(Self.nonceSize), nil) == 1
            && EVP_DecryptInit_ex(context.handle, nil, nil, key, nonce) == 1
            && EVP_DecryptUpdate(context.handle, nil, &length, additional, Int32(additional.count)) == 1
            && EVP_DecryptUpdate(context.handle, &plaintext, &length, ciphertext, Int32(ciphertext.count)) == 1
            && EVP_CIPHER_CTX_ctrl(context.handle, EVP_CTRL_GCM_SET_TAG, Int32(Self.tagSize), &tag) == 1
            && plaintext.withUnsafeMutableBufferPointer {
                EVP_DecryptFinal_ex(context.handle, $0.baseAddress! + Int(length), &finalLength)
            } == 1
        guard opened else {
            throw PlatformError(
                .unsealable,
                "the sealed secret of \(record) does not open under this platform key: another key sealed it, or it "
                    + "was altered",
                context: record
            )
        }
        return Array(plaintext.prefix(Int(length + finalLength)))
    }
}

/// One libcrypto cipher context, freed with its owner.
private final class CipherContext {
    let handle: OpaquePointer

    init(_ record: String) throws(PlatformError) {
        guard let handle = EVP_CIPHER_CTX_new() else {
            throw PlatformError(.crypto, "libcrypto could not allocate a cipher context", context: record)
        }
        self.handle = handle
    }

    deinit { EVP_CIPHER_CTX_free(handle) }
}
