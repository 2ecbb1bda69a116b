/// The classic BPF program that ``SocketDestroySocket`` attaches: it keeps an announcement
/// only when the socket was connected (remote port not 0) to an address that is neither
/// loopback nor unspecified, for IPv4, IPv6 and IPv4-mapped IPv6.
///
/// Offsets are into the whole netlink message: the 16-byte `nlmsghdr`, then
/// `inet_diag_msg` (family at 16, remote port at 22, remote address at 40..<56). Loads of
/// halves and words are in network byte order, as the kernel stores ports and addresses.
enum SocketDestroyFilter {
    /// One `struct sock_filter`.
    struct Instruction: Sendable, Equatable {
        var code: UInt16
        var jt: UInt8
        var jf: UInt8
        var k: UInt32
    }

    /// A step of the program before jumps are resolved: loads, tests naming labels, returns.
    enum Step {
        case loadByte(UInt32), loadHalf(UInt32), loadWord(UInt32)
        case jumpIfEqual(UInt32, then: String, else: String?)
        case label(String)
        case accept, drop
    }

    static let steps: [Step] = [
        .loadHalf(22), .jumpIfEqual(0, then: "drop", else: nil),  // never connected
        .loadByte(16), .jumpIfEqual(2, then: "v4", else: nil), .jumpIfEqual(10, then: "v6", else: "drop"),
        .label("v4"),
        .loadByte(40), .jumpIfEqual(127, then: "drop", else: nil),
        .loadWord(40), .jumpIfEqual(0, then: "drop", else: "accept"),
        .label("v6"),
        .loadWord(40), .jumpIfEqual(0, then: "w1", else: "accept"),
        .label("w1"),
        .loadWord(44), .jumpIfEqual(0, then: "w2", else: "accept"),
        .label("w2"),
        .loadWord(48), .jumpIfEqual(0, then: "low", else: nil), .jumpIfEqual(0xFFFF, then: "mapped", else: "accept"),
        .label("low"),  // ::, ::1
        .loadWord(52), .jumpIfEqual(0, then: "drop", else: nil), .jumpIfEqual(1, then: "drop", else: "accept"),
        .label("mapped"),  // ::ffff:a.b.c.d
        .loadByte(52), .jumpIfEqual(127, then: "drop", else: nil),
        .loadWord(52), .jumpIfEqual(0, then: "drop", else: "accept"),
        .label("accept"), .accept,
        .label("drop"), .drop,
    ]

    /// The assembled program; a missing label or a jump out of range is a programming error
    /// caught by the unit tests, never by input.
    static let program: [Instruction] = assemble(steps)

    static func assemble(_ steps: [Step]) -> [Instruction] {
        var labels: [String: Int] = [:]
        var count = 0
        for step in steps {
            if case .label(let name) = step { labels[name] = count } else { count += 1 }
        }
        var program: [Instruction] = []
        for step in steps {
            let here = program.count
            func offset(_ label: String?) -> UInt8 {
                guard let label else { return 0 }
                return UInt8(clamping: (labels[label] ?? here + 1) - here - 1)
            }
            switch step {
            case .label: continue
            case .loadByte(let at): program.append(Instruction(code: 0x30, jt: 0, jf: 0, k: at))  // BPF_LD|BPF_B|BPF_ABS
            case .loadHalf(let at): program.append(Instruction(code: 0x28, jt: 0, jf: 0, k: at))  // BPF_LD|BPF_H|BPF_ABS
            case .loadWord(let at): program.append(Instruction(code: 0x20, jt: 0, jf: 0, k: at))  // BPF_LD|BPF_W|BPF_ABS
            case .jumpIfEqual(let value, let then, let otherwise):  // BPF_JMP|BPF_JEQ|BPF_K
                program.append(Instruction(code: 0x15, jt: offset(then), jf: offset(otherwise), k: value))
            case .accept: program.append(Instruction(code: 0x06, jt: 0, jf: 0, k: 0xFFFF_FFFF))  // BPF_RET: whole message
            case .drop: program.append(Instruction(code: 0x06, jt: 0, jf: 0, k: 0))
            }
        }
        return program
    }

    /// Runs the program over one message the way the kernel would (for tests): true when kept.
    static func keeps(_ message: [UInt8], program: [Instruction] = program) -> Bool {
        var accumulator: UInt32 = 0
        var pc = 0
        func load(_ at: UInt32, _ size: Int) -> UInt32? {
            let start = Int(at)
            guard start + size <= message.count else { return nil }
            return message[start..<(start + size)].reduce(0) { $0 << 8 | UInt32($1) }
        }
        while pc < program.count {
            let instruction = program[pc]
            switch instruction.code {
            case 0x30, 0x28, 0x20:
                let size = instruction.code == 0x30 ? 1 : instruction.code == 0x28 ? 2 : 4
                guard let value = load(instruction.k, size) else { return false }  // the kernel drops short packets
                accumulator = value
                pc += 1
            case 0x15:
                pc += 1 + Int(accumulator == instruction.k ? instruction.jt : instruction.jf)
            case 0x06:
                return instruction.k != 0
            default:
                return false
            }
        }
        return false
    }
}
