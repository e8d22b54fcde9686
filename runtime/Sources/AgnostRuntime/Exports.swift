// Handlers use these types in their signatures; re-exporting them means `import AgnostRuntime` is all they need.
@_exported public import HTTPTypes
@_exported public import Logging

@_exported public import struct NIOCore.ByteBuffer
