import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// `filesystems`: every mounted real filesystem: `MOUNT.device`, `.type`, `.total`, `.free`.
struct FilesystemSource: InventorySource {
    let section = "filesystems"

    /// Kernel-internal filesystems that say nothing about the terminal's storage.
    static let pseudo: Set<String> = [
        "proc", "sysfs", "devtmpfs", "devpts", "securityfs", "cgroup", "cgroup2", "pstore", "bpf", "debugfs",
        "tracefs", "configfs", "fusectl", "mqueue", "hugetlbfs", "autofs", "binfmt_misc", "rpc_pipefs", "nsfs",
        "efivarfs", "selinuxfs", "ramfs", "fuse.gvfsd-fuse", "fuse.portal", "overlay", "squashfs", "tmpfs",
    ]

    func collect(_ system: SystemFiles) throws -> [String: String] {
        let mounts = try system.text("proc/mounts")
        var items: [String: String] = [:]
        for line in mounts.split(separator: "\n") {
            let fields = line.split(separator: " ")
            guard fields.count >= 3 else { continue }
            let type = String(fields[2])
            guard !Self.pseudo.contains(type) else { continue }
            let mount = Self.unescape(String(fields[1]))
            items["\(mount).device"] = Self.unescape(String(fields[0]))
            items["\(mount).type"] = type
            guard system.root.path == "/" else { continue }
            var info = statvfs()
            // A mount that vanished or hangs (stale NFS) just loses its sizes.
            if statvfs(mount, &info) == 0 {
                items["\(mount).total"] = String(UInt64(info.f_blocks) * UInt64(info.f_frsize))
                items["\(mount).free"] = String(UInt64(info.f_bavail) * UInt64(info.f_frsize))
            }
        }
        return items
    }

    /// /proc/mounts escapes space, tab, newline and backslash as octal.
    static func unescape(_ text: String) -> String {
        guard text.contains("\\") else { return text }
        var out: [UInt8] = []
        let bytes = Array(text.utf8)
        var i = 0
        while i < bytes.count {
            if bytes[i] == 92, i + 3 < bytes.count, let value = UInt8(String(decoding: bytes[(i + 1)...(i + 3)], as: UTF8.self), radix: 8) {
                out.append(value)
                i += 4
            } else {
                out.append(bytes[i])
                i += 1
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}

/// `disks`: block devices with a size: `NAME.size`, `.model`, `.rotational`, `.removable`.
struct BlockDeviceSource: InventorySource {
    let section = "disks"

    func collect(_ system: SystemFiles) throws -> [String: String] {
        var items: [String: String] = [:]
        for name in system.entries("sys/block") where !name.hasPrefix("loop") && !name.hasPrefix("ram") {
            let base = "sys/block/\(name)"
            guard let sectors = system.line("\(base)/size").flatMap(UInt64.init), sectors > 0 else { continue }
            items["\(name).size"] = String(sectors * 512)
            if let model = system.line("\(base)/device/model") { items["\(name).model"] = model }
            if let rotational = system.line("\(base)/queue/rotational") { items["\(name).rotational"] = rotational == "1" ? "yes" : "no" }
            if let removable = system.line("\(base)/removable") { items["\(name).removable"] = removable == "1" ? "yes" : "no" }
        }
        return items
    }
}
