/// Turns a ``PatternNode`` tree into a ``Program``: Thompson NFA instructions, `{m,n}`
/// expanded (within ``SafePattern/maxProgram``), plus the shortcuts the matcher uses.
enum PatternCompiler {
    static func compile(_ tree: PatternNode, caseInsensitive: Bool) throws(SafePatternError) -> Program {
        _ = try size(tree)
        var emitter = Emitter(caseInsensitive: caseInsensitive)
        emitter.emit(tree)
        emitter.ops.append(.match)
        var program = Program()
        program.ops = emitter.ops
        program.classes = emitter.classes
        program.caseInsensitive = caseInsensitive
        program.anchoredStart = startsAtLineStart(tree)
        program.literals = LiteralExtractor(caseInsensitive: caseInsensitive).required(tree).map { factor in
            factor.map { Array(String(String.UnicodeScalarView($0.compactMap(Unicode.Scalar.init))).utf8) }
        }
        program.literalFolded = caseInsensitive
        firstCharacters(&program)
        return program
    }

    /// Instructions `node` compiles to; throws when a repetition makes the program too large.
    static func size(_ node: PatternNode) throws(SafePatternError) -> Int {
        switch node {
        case .empty: return 0
        case .char, .any, .set, .lineStart, .lineEnd, .wordBoundary: return 1
        case .concat(let items):
            var total = 0
            for item in items { total += try size(item) }
            return total
        case .alternate(let branches):
            var total = 2 * (branches.count - 1)
            for branch in branches { total += try size(branch) }
            return total
        case .repeated(let inner, let low, let high, let position):
            let one = try size(inner)
            let total = high.map { low * one + ($0 - low) * (one + 1) } ?? (low * one + one + 2)
            guard total <= SafePattern.maxProgram else {
                throw SafePatternError(
                    "the pattern is too large once this repetition is expanded (\(total) steps, at most \(SafePattern.maxProgram)); use + or * instead of large counts",
                    position: position)
            }
            return total
        }
    }

    struct Emitter {
        let caseInsensitive: Bool
        var ops: [Program.Op] = []
        var classes: [CharClass] = []

        mutating func emit(_ node: PatternNode) {
            switch node {
            case .empty: break
            case .char(let c): ops.append(.char(caseInsensitive ? CaseFold.lower(c) : c))
            case .any: ops.append(.any)
            case .set(var set):
                set.finish(caseInsensitive: caseInsensitive)
                if let index = classes.firstIndex(of: set) {
                    ops.append(.set(index))
                } else {
                    classes.append(set)
                    ops.append(.set(classes.count - 1))
                }
            case .lineStart: ops.append(.lineStart)
            case .lineEnd: ops.append(.lineEnd)
            case .wordBoundary(let positive): ops.append(positive ? .wordBoundary : .notWordBoundary)
            case .concat(let items):
                for item in items { emit(item) }
            case .alternate(let branches):
                var jumps: [Int] = []
                for branch in branches.dropLast() {
                    let split = ops.count
                    ops.append(.split(split + 1, 0))
                    emit(branch)
                    jumps.append(ops.count)
                    ops.append(.jump(0))
                    ops[split] = .split(split + 1, ops.count)
                }
                if let last = branches.last { emit(last) }
                for jump in jumps { ops[jump] = .jump(ops.count) }
            case .repeated(let inner, let low, let high, _):
                for _ in 0..<low { emit(inner) }
                if let high {
                    // Nested optionals: x{0,3} = (x(x(x)?)?)?, so a failed copy ends the run.
                    var exits: [Int] = []
                    for _ in low..<high {
                        exits.append(ops.count)
                        ops.append(.split(ops.count + 1, 0))
                        emit(inner)
                    }
                    for exit in exits { ops[exit] = .split(exit + 1, ops.count) }
                } else {
                    let loop = ops.count
                    ops.append(.split(loop + 1, 0))
                    emit(inner)
                    ops.append(.jump(loop))
                    ops[loop] = .split(loop + 1, ops.count)
                }
            }
        }
    }

    /// Whether every match starts with `^`, so only position 0 needs trying.
    static func startsAtLineStart(_ node: PatternNode) -> Bool {
        switch node {
        case .lineStart: return true
        case .concat(let items): return items.first.map(startsAtLineStart) ?? false
        case .alternate(let branches): return branches.allSatisfy(startsAtLineStart)
        case .repeated(let inner, let low, _, _): return low > 0 && startsAtLineStart(inner)
        default: return false
        }
    }

    /// Which bytes can begin a match, so the matcher can skip ahead when no thread is live.
    static func firstCharacters(_ program: inout Program) {
        var visited = Set<Int>()
        var stack = [0]
        var first = ASCIISet()
        var nonASCII = false
        var canSkip = true
        while let pc = stack.popLast() {
            guard visited.insert(pc).inserted else { continue }
            switch program.ops[pc] {
            case .char(let c):
                if c < 128 {
                    first.insert(c)
                    if program.caseInsensitive { first.insert(CaseFold.upper(c)) }
                    if program.caseInsensitive, c == 107 { nonASCII = true }
                } else {
                    nonASCII = true
                }
            case .any, .match:
                canSkip = false
            case .set(let index):
                let set = program.classes[index]
                first.formUnion(set.table)
                if set.negated || set.allNonASCII || !set.ranges.isEmpty || (program.caseInsensitive && set.table.contains(107)) {
                    nonASCII = true
                }
            case .split(let a, let b):
                stack.append(a)
                stack.append(b)
            case .jump(let target):
                stack.append(target)
            case .lineStart, .lineEnd, .wordBoundary, .notWordBoundary:
                stack.append(pc + 1)
            }
        }
        program.canSkip = canSkip
        program.firstASCII = first
        program.firstNonASCII = nonASCII
    }
}
