/// Runs a ``SafePattern`` over lines: a Thompson NFA simulation (every live state advanced
/// in lock step, each state at most once per position), so the work per line is at most
/// proportional to instructions × characters, whatever the pattern and the input.
///
/// Holds scratch space reused across lines, so make one per task and reuse it; it is not
/// `Sendable`. ``steps`` counts the work done, for tests and benchmarks that check the bound.
public struct SafePatternMatcher {
    /// The pattern matched.
    public let pattern: SafePattern
    let scratch: Scratch

    /// Work done so far: NFA states visited plus bytes scanned by the shortcuts.
    public var steps: Int { scratch.steps }

    /// A matcher with scratch space sized for `pattern`.
    public init(_ pattern: SafePattern) {
        self.pattern = pattern
        self.scratch = Scratch(program: pattern.program)
    }

    /// Whether the pattern occurs in `line`.
    public func matches(_ line: String) -> Bool {
        var line = line
        return line.withUTF8 { matches($0) }
    }

    /// Whether the pattern occurs in the UTF-8 bytes of one line (without its line break).
    /// Only the first ``SafePattern/maxLineBytes`` bytes are looked at.
    public func matches(_ line: UnsafeBufferPointer<UInt8>) -> Bool {
        let count = min(line.count, SafePattern.maxLineBytes)
        let bytes = UnsafeBufferPointer(rebasing: line[0..<count])
        // Most lines lack the rule's literal text: reject them before touching the NFA.
        let scratch = self.scratch
        let folded = scratch.program.literalFolded
        for factor in scratch.program.literals {
            scratch.steps += count * factor.count
            guard factor.contains(where: { LiteralSearch.contains(bytes, $0, folded: folded) }) else { return false }
        }
        let program = scratch.program
        // Take the scratch arrays out of the class while working, so no copy is made.
        var work = Work()
        swap(&work, &scratch.work)
        defer { swap(&work, &scratch.work) }
        return program.ops.withUnsafeBufferPointer { ops in
            program.classes.withUnsafeBufferPointer { classes in
                run(bytes, ops: ops, classes: classes, program: program, work: &work)
            }
        }
    }

    private func run(
        _ bytes: UnsafeBufferPointer<UInt8>, ops: UnsafeBufferPointer<Program.Op>, classes: UnsafeBufferPointer<CharClass>,
        program: Program, work: inout Work
    ) -> Bool {
        var steps = 0
        defer { scratch.steps += steps }
        work.current.clear()
        var position = 0
        var previous = UTF8Decoder.none
        var (character, width) = UTF8Decoder.decode(bytes, at: 0)
        while true {
            if position == 0 || !program.anchoredStart {
                let context = Context(atStart: position == 0, previous: previous, current: character)
                if Self.add(0, to: &work.current, stack: &work.stack, ops: ops, context, steps: &steps) { return true }
            }
            if character == UTF8Decoder.none { return false }
            let nextPosition = position + width
            let (following, followingWidth) = UTF8Decoder.decode(bytes, at: nextPosition)
            let folded = program.caseInsensitive ? CaseFold.lower(character) : character
            let context = Context(atStart: false, previous: character, current: following)
            work.next.clear()
            for slot in 0..<work.current.count {
                let pc = work.current.dense[slot]
                steps += 1
                let taken: Bool
                switch ops[pc] {
                case .char(let c): taken = c == folded
                case .any: taken = !UTF8Decoder.isLineTerminator(character)
                case .set(let index): taken = classes[index].contains(character)
                default: taken = false
                }
                if taken, Self.add(pc + 1, to: &work.next, stack: &work.stack, ops: ops, context, steps: &steps) { return true }
            }
            swap(&work.current, &work.next)
            previous = character
            position = nextPosition
            (character, width) = (following, followingWidth)
            if work.current.count == 0 {
                if program.anchoredStart { return false }
                if program.canSkip, position < bytes.count {
                    let start = position
                    while position < bytes.count {
                        let byte = bytes[position]
                        if byte < 0x80 ? program.firstASCII.contains(UInt32(byte)) : program.firstNonASCII { break }
                        position += 1
                    }
                    if position != start {
                        steps += position - start
                        // Only the word-ness of the previous character matters (for \b);
                        // bytes above ASCII are not word characters.
                        let before = bytes[position - 1]
                        previous = before < 0x80 ? UInt32(before) : UTF8Decoder.invalidBase
                        (character, width) = UTF8Decoder.decode(bytes, at: position)
                    }
                }
            }
        }
    }

    /// Where a thread is being added: what the zero-width assertions look at.
    struct Context {
        let atStart: Bool
        let previous: UInt32
        let current: UInt32
    }

    /// Adds `start` and every state reachable from it without consuming a character (the
    /// epsilon closure, with assertions checked here). True when `match` is reached.
    private static func add(
        _ start: Int, to list: inout SparseSet, stack: inout Stack, ops: UnsafeBufferPointer<Program.Op>, _ context: Context,
        steps: inout Int
    ) -> Bool {
        stack.count = 0
        stack.push(start)
        while let pc = stack.pop() {
            steps += 1
            guard list.insert(pc) else { continue }
            switch ops[pc] {
            case .split(let a, let b):
                stack.push(b)
                stack.push(a)
            case .jump(let target):
                stack.push(target)
            case .lineStart:
                if context.atStart { stack.push(pc + 1) }
            case .lineEnd:
                if context.current == UTF8Decoder.none { stack.push(pc + 1) }
            case .wordBoundary:
                if UTF8Decoder.isWord(context.previous) != UTF8Decoder.isWord(context.current) { stack.push(pc + 1) }
            case .notWordBoundary:
                if UTF8Decoder.isWord(context.previous) == UTF8Decoder.isWord(context.current) { stack.push(pc + 1) }
            case .match:
                return true
            case .char, .any, .set:
                break
            }
        }
        return false
    }
}

extension SafePatternMatcher {
    /// Scratch memory for one matcher: two state sets and the closure stack.
    final class Scratch {
        /// The pattern's program, held here so the per-line path touches one reference.
        let program: Program
        var work: Work
        var steps = 0

        init(program: Program) {
            self.program = program
            let size = program.ops.count
            work = Work(current: SparseSet(capacity: size), next: SparseSet(capacity: size), stack: Stack(capacity: 2 * size + 2))
        }
    }

    /// The state sets of this position and the next, and the closure stack.
    struct Work {
        var current = SparseSet(capacity: 0)
        var next = SparseSet(capacity: 0)
        var stack = Stack(capacity: 0)
    }

    /// A set of instruction indexes with O(1) insert, membership and clear (Briggs–Torczon).
    struct SparseSet {
        var dense: [Int]
        var sparse: [Int]
        var count = 0

        init(capacity: Int) {
            dense = Array(repeating: 0, count: capacity)
            sparse = Array(repeating: 0, count: capacity)
        }

        mutating func clear() { count = 0 }

        /// Inserts `value`; false when it was already there.
        @inline(__always) mutating func insert(_ value: Int) -> Bool {
            let slot = sparse[value]
            if slot < count && dense[slot] == value { return false }
            sparse[value] = count
            dense[count] = value
            count += 1
            return true
        }
    }

    /// The closure's work list; each state is pushed at most twice per closure (a split
    /// pushes two), so `2 × size` bounds it.
    struct Stack {
        var items: [Int]
        var count = 0

        init(capacity: Int) { items = Array(repeating: 0, count: capacity) }

        @inline(__always) mutating func push(_ value: Int) {
            if count == items.count { items.append(value) } else { items[count] = value }
            count += 1
        }

        @inline(__always) mutating func pop() -> Int? {
            guard count > 0 else { return nil }
            count -= 1
            return items[count]
        }
    }
}
