import AgnostImage
import AgnostOCI
import Foundation
import Testing

struct LibraryClosureTests {
    @Test(.enabled(if: isAMD64Debian, amd64DebianComment), arguments: ["/usr/bin/curl", "/usr/bin/python3"])
    func matchesLddOnThisMachine(executable: String) throws {
        try #require(FileManager.default.isExecutableFile(atPath: executable), "\(executable) is not installed")
        let ldd = try Self.ldd(executable)
        let closure = try LibraryClosure.resolve(executable: executable)
        #expect(closure.architecture == "amd64")
        #expect(closure.interpreter?.absolute == ldd.interpreter)
        #expect(Set(closure.libraries.map(\.absolute)) == Set(ldd.libraries))
        let ours = Set(
            closure.entries.compactMap { entry -> String? in
                switch entry.kind {
                case .file(.path(let host)): Self.realPath(host)
                case .hardLink: Self.realPath(entry.path.absolute)
                default: nil
                }
            }
        )
        let theirs = Set((ldd.libraries + [ldd.interpreter].compactMap { $0 }).map(Self.realPath))
        #expect(ours == theirs)
    }

    @Test
    func mergedUsrLinksBecomeSymlinkEntriesWithTheirExactTargets() throws {
        let fake = try FakeRoot()
        try fake.symlink("/lib", to: "usr/lib")
        try fake.symlink("/lib64", to: "usr/lib64")
        try fake.symlink("/usr/lib64/ld-linux-x86-64.so.2", to: "/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2")
        try fake.library(
            "/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2",
            SyntheticELF(soname: "ld-linux-x86-64.so.2"),
            mode: 0o755
        )
        try fake.symlink("/usr/lib/x86_64-linux-gnu/libc.so.6", to: "libc-2.36.so")
        try fake.library(
            "/usr/lib/x86_64-linux-gnu/libc-2.36.so",
            SyntheticELF(needed: ["ld-linux-x86-64.so.2"], soname: "libc.so.6")
        )
        try fake.text("/etc/ld.so.conf", "include /etc/ld.so.conf.d/*.conf\n")
        try fake.text("/etc/ld.so.conf.d/x86_64-linux-gnu.conf", "/lib/x86_64-linux-gnu\n/usr/lib/x86_64-linux-gnu\n")

        let closure = try fake.closure(
            of: SyntheticELF(interpreter: "/lib64/ld-linux-x86-64.so.2", needed: ["libc.so.6"])
        )
        #expect(closure.architecture == "amd64")
        #expect(closure.interpreter == (try ImagePath("/lib64/ld-linux-x86-64.so.2")))
        // libc's own DT_NEEDED of the loader is answered by the interpreter's soname, not searched for again.
        #expect(closure.libraries == [try ImagePath("/lib/x86_64-linux-gnu/libc.so.6")])
        let expected: Set<LayerEntry> = [
            try link("/lib64", "usr/lib64"),
            try link("/usr/lib64/ld-linux-x86-64.so.2", "/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2"),
            try link("/lib", "usr/lib"),
            try link("/usr/lib/x86_64-linux-gnu/libc.so.6", "libc-2.36.so"),
            try fake.fileEntry("/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2", mode: 0o755),
            try fake.fileEntry("/usr/lib/x86_64-linux-gnu/libc-2.36.so", mode: 0o644),
        ]
        #expect(Set(closure.entries) == expected)
        #expect(closure.entries.count == expected.count)
    }

    @Test
    func aStaticExecutableHasAnEmptyClosure() throws {
        let fake = try FakeRoot()
        let closure = try fake.closure(of: SyntheticELF(type: 2))
        #expect(closure.architecture == "amd64")
        #expect(closure.interpreter == nil && closure.libraries.isEmpty && closure.entries.isEmpty)
    }

    @Test
    func originIsTheExecutablesHostDirectoryAndEachLibrarysOwn() throws {
        let fake = try FakeRoot()
        // $ORIGIN of the executable is its directory on the packaging machine; the loader in the image looks there,
        // so that directory has to exist under the root too for `..` to climb out of it.
        let host = fake.directory + "/host"
        try fake.directory(host + "/bin")
        try fake.library(host + "/lib/libapp.so.1", SyntheticELF(needed: ["libdep.so.1"], runPath: "${ORIGIN}/private"))
        try fake.library(host + "/lib/private/libdep.so.1", SyntheticELF())

        let closure = try fake.closure(of: SyntheticELF(needed: ["libapp.so.1"], runPath: "$ORIGIN/../lib"))
        #expect(
            closure.libraries == [
                try ImagePath(host + "/lib/libapp.so.1"), try ImagePath(host + "/lib/private/libdep.so.1"),
            ]
        )
    }

    @Test
    func hardLinkedLibrariesBecomeOneFileAndHardLinks() throws {
        let fake = try FakeRoot()
        try fake.library("/usr/lib/libfoo.so.1", SyntheticELF(soname: "libfoo.so.1"))
        try fake.hardLink("/usr/lib/libbar.so.1", to: "/usr/lib/libfoo.so.1")

        let closure = try fake.closure(of: SyntheticELF(needed: ["libfoo.so.1", "libbar.so.1"]))
        #expect(closure.libraries == [try ImagePath("/usr/lib/libfoo.so.1"), try ImagePath("/usr/lib/libbar.so.1")])
        let first = try ImagePath("/usr/lib/libbar.so.1")
        #expect(
            Set(closure.entries) == [
                try fake.fileEntry("/usr/lib/libbar.so.1", mode: 0o644),
                LayerEntry(path: try ImagePath("/usr/lib/libfoo.so.1"), kind: .hardLink(target: first), mode: 0o644),
            ]
        )
    }

    @Test
    func ldSoConfIncludesAreSearchedInOrder() throws {
        let fake = try FakeRoot()
        try fake.text("/etc/ld.so.conf", "# local software\ninclude ld.so.conf.d/*.conf\n/opt/fallback/lib\n")
        try fake.text("/etc/ld.so.conf.d/a.conf", "/opt/a/lib   # the a suite\n")
        try fake.text("/etc/ld.so.conf.d/b.conf", "/opt/b/lib/\ninclude nested/*.conf\n")
        try fake.text("/etc/ld.so.conf.d/nested/n.conf", "/opt/nested/lib\n")
        try fake.text("/etc/ld.so.conf.d/.hidden.conf", "/opt/hidden/lib\n")
        try fake.text("/etc/ld.so.conf.d/README", "/opt/readme/lib\n")
        try fake.text("/etc/ld.so.conf.d/loop.conf", "include /etc/ld.so.conf\n")
        for directory in ["/opt/b/lib", "/opt/fallback/lib", "/opt/hidden/lib", "/opt/readme/lib"] {
            try fake.library(directory + "/libx.so", SyntheticELF())
        }
        try fake.library("/opt/a/lib/liby.so", SyntheticELF())
        try fake.library("/opt/nested/lib/libn.so", SyntheticELF())
        try fake.library("/opt/fallback/lib/libz.so", SyntheticELF())
        try fake.library("/usr/lib/libz.so", SyntheticELF())

        let closure = try fake.closure(of: SyntheticELF(needed: ["libx.so", "liby.so", "libn.so", "libz.so"]))
        #expect(
            closure.libraries.map(\.absolute) == [
                "/opt/b/lib/libx.so", "/opt/a/lib/liby.so", "/opt/nested/lib/libn.so", "/opt/fallback/lib/libz.so",
            ]
        )
    }

    @Test
    func candidatesOfAnotherClassOrMachineArePassedOver() throws {
        let fake = try FakeRoot()
        try fake.library("/wrong32/libfoo.so.1", SyntheticELF(is64Bit: false, machine: 3))
        try fake.library("/wrongarm/libfoo.so.1", SyntheticELF(machine: 183))
        try fake.library("/right/libfoo.so.1", SyntheticELF())

        let closure = try fake.closure(
            of: SyntheticELF(needed: ["libfoo.so.1"], runPath: "/wrong32:/wrongarm:/right")
        )
        #expect(closure.libraries == [try ImagePath("/right/libfoo.so.1")])
        #expect(closure.entries == [try fake.fileEntry("/right/libfoo.so.1", mode: 0o644)])
    }

    @Test
    func aLibraryFoundOnlyForAnotherMachineIsNotFound() throws {
        let fake = try FakeRoot()
        try fake.library("/usr/lib/libfoo.so.1", SyntheticELF(machine: 183))

        let error = try #require(throws: ImageError.self) {
            try fake.closure(of: SyntheticELF(needed: ["libfoo.so.1"]))
        }
        #expect(error.code == .libraryNotFound && error.context == "libfoo.so.1")
        #expect(error.message.contains("passed over \(fake.root)/usr/lib/libfoo.so.1"))
    }

    @Test
    func aCandidateThatIsNoELFFileStopsTheSearchAsItStopsTheLoader() throws {
        let fake = try FakeRoot()
        try fake.text("/first/libfoo.so.1", "INPUT(-lfoo)\n")
        try fake.library("/second/libfoo.so.1", SyntheticELF())

        let error = try #require(throws: ImageError.self) {
            try fake.closure(of: SyntheticELF(needed: ["libfoo.so.1"], runPath: "/first:/second"))
        }
        #expect(error.code == .unreadableInput && error.context == fake.root + "/first/libfoo.so.1")
        #expect(error.message.contains("not an ELF executable or library"))
    }

    @Test
    func aMissingLibraryNamesItselfItsNeederAndTheSearchedDirectories() throws {
        let fake = try FakeRoot()
        try fake.library("/usr/lib/libpresent.so.1", SyntheticELF(needed: ["libmissing.so.7"]))

        let error = try #require(throws: ImageError.self) {
            try fake.closure(of: SyntheticELF(needed: ["libpresent.so.1"]))
        }
        #expect(error.code == .libraryNotFound && error.context == "libmissing.so.7")
        #expect(error.message.contains("needed by /usr/lib/libpresent.so.1"))
        #expect(error.message.contains("searched /lib64, /usr/lib64, /lib, /usr/lib"))
        #expect(error.message.contains("install the package that provides it"))
    }

    @Test
    func aMissingInterpreterIsNamed() throws {
        let fake = try FakeRoot()
        let error = try #require(throws: ImageError.self) {
            try fake.closure(of: SyntheticELF(interpreter: "/lib/ld-missing.so.1"))
        }
        #expect(error.code == .libraryNotFound && error.context == "/lib/ld-missing.so.1")
        #expect(error.message.contains(fake.executablePath))
    }

    @Test
    func aSymlinkLoopIsReported() throws {
        let fake = try FakeRoot()
        try fake.symlink("/usr/lib/libloop.so.1", to: "libloop.so.2")
        try fake.symlink("/usr/lib/libloop.so.2", to: "/usr/lib/libloop.so.1")

        let error = try #require(throws: ImageError.self) {
            try fake.closure(of: SyntheticELF(needed: ["libloop.so.1"]))
        }
        #expect(error.code == .unreadableInput)
        #expect(error.message.contains("too many levels of symbolic links"))
    }

    @Test(arguments: ["../../../../etc/passwd", "/../etc/passwd"])
    func aSymlinkLeavingTheRootIsRefused(target: String) throws {
        let fake = try FakeRoot()
        try fake.symlink("/usr/lib/libescape.so.1", to: target)

        let error = try #require(throws: ImageError.self) {
            try fake.closure(of: SyntheticELF(needed: ["libescape.so.1"]))
        }
        #expect(error.code == .unsafePath && error.context == fake.root + "/usr/lib/libescape.so.1")
    }

    @Test
    func rPathsOfLoadersCountUnlessTheNeederHasARunPath() throws {
        let fake = try FakeRoot()
        try fake.library("/usr/lib/liba.so", SyntheticELF(needed: ["libb.so"]))
        try fake.library("/usr/lib/librun.so", SyntheticELF(needed: ["libd.so"], runPath: "/run-path"))
        try fake.library("/exe-rpath/libb.so", SyntheticELF())
        try fake.library("/exe-rpath/libd.so", SyntheticELF())
        try fake.library("/usr/lib/libd.so", SyntheticELF())

        let closure = try fake.closure(of: SyntheticELF(needed: ["liba.so", "librun.so"], rPath: "/exe-rpath"))
        #expect(
            closure.libraries.map(\.absolute) == [
                "/usr/lib/liba.so", "/usr/lib/librun.so", "/exe-rpath/libb.so", "/usr/lib/libd.so",
            ]
        )
    }

    @Test(arguments: [true, false])
    func libAndPlatformExpandAsTheRootsLoaderExpandsThem(multiarch: Bool) throws {
        let fake = try FakeRoot()
        if multiarch { try fake.directory("/usr/lib/x86_64-linux-gnu") }
        let expected = multiarch ? "/opt/lib/x86_64-linux-gnu/x86_64/libfoo.so" : "/opt/lib64/x86_64/libfoo.so"
        try fake.library(expected, SyntheticELF())

        let closure = try fake.closure(of: SyntheticELF(needed: ["libfoo.so"], runPath: "/opt/$LIB/${PLATFORM}"))
        #expect(closure.libraries == [try ImagePath(expected)])
    }

    @Test
    func aDollarNameThatIsNoTokenStaysLiteral() throws {
        let fake = try FakeRoot()
        try fake.library("/opt/$ORIGINAL/lib/libfoo.so", SyntheticELF())

        let closure = try fake.closure(of: SyntheticELF(needed: ["libfoo.so"], runPath: "/opt/$ORIGINAL/lib"))
        #expect(closure.libraries == [try ImagePath("/opt/$ORIGINAL/lib/libfoo.so")])
    }

    @Test
    func aNeededPathWithASlashIsOpenedAsIs() throws {
        let fake = try FakeRoot()
        try fake.library("/opt/direct/libdirect.so", SyntheticELF())
        try fake.library("/usr/lib/libdirect.so", SyntheticELF())

        let closure = try fake.closure(of: SyntheticELF(needed: ["/opt/direct/libdirect.so"]))
        #expect(closure.libraries == [try ImagePath("/opt/direct/libdirect.so")])
    }

    @Test
    func anExecutableForNoImagePlatformIsRefused() throws {
        let fake = try FakeRoot()
        let error = try #require(throws: ImageError.self) { try fake.closure(of: SyntheticELF(machine: 2)) }
        #expect(error.code == .unreadableInput && error.context == fake.executablePath)
    }

    private func link(_ path: String, _ target: String) throws -> LayerEntry {
        LayerEntry(path: try ImagePath(path), kind: .symlink(target: target), mode: 0o777)
    }

    /// What `ldd` prints for `executable`: the interpreter line and the `=>` paths.
    private static func ldd(_ executable: String) throws -> (interpreter: String?, libraries: [String]) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/ldd")
        process.arguments = [executable]
        // LD_LIBRARY_PATH from the test runner would change what ldd finds; the closure never reads it.
        process.environment = ["PATH": "/usr/bin:/bin"]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        try #require(process.terminationStatus == 0, "ldd failed: \(output)")
        var interpreter: String?
        var libraries: [String] = []
        for line in output.split(separator: "\n") {
            let words = line.split(separator: " ").map(String.init)
            if let arrow = words.firstIndex(of: "=>"), arrow + 1 < words.count, words[arrow + 1].hasPrefix("/") {
                libraries.append(words[arrow + 1])
            } else if let first = words.first?.trimmingCharacters(in: .whitespaces), first.hasPrefix("/") {
                interpreter = first
            }
        }
        return (interpreter, libraries)
    }

    private static func realPath(_ path: String) -> String {
        URL(fileURLWithPath: path).resolvingSymlinksInPath().path
    }
}
