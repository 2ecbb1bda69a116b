/// Which collected files a rule reads: a glob over the file's path on the terminal.
///
/// `*` matches within one path component, `**` across components, `?` one character,
/// `[abc]`, `[a-z]`, `[!a]` one character of a set; `\` escapes. A glob without `/` is
/// matched against the file name alone (`*.log`), one with `/` against the whole path
/// (`/var/log/**`). Globs compile to a ``SafePattern``, so matching is linear too.
struct PathGlob: Sendable, CustomStringConvertible {
    /// The glob as written.
    let text: String
    let pattern: SafePattern
    let nameOnly: Bool

    init(_ text: String) throws(SafePatternError) {
        self.text = text
        self.nameOnly = !text.contains("/")
        self.pattern = try SafePattern("^" + Self.translate(text) + "$")
    }

    /// Whether the glob selects the file at `path` (its path on the terminal).
    func matches(_ path: String) -> Bool {
        let subject = nameOnly ? String(path.split(separator: "/", omittingEmptySubsequences: false).last ?? "") : path
        return pattern.matches(subject)
    }

    var description: String { text }

    /// The glob in ``SafePattern`` syntax.
    static func translate(_ glob: String) -> String {
        let characters = Array(glob)
        var out = ""
        var index = 0
        func literal(_ c: Character) -> String {
            c.isASCII && !(c.isLetter || c.isNumber) ? "\\" + String(c) : String(c)
        }
        while index < characters.count {
            let c = characters[index]
            switch c {
            case "*":
                if index + 1 < characters.count, characters[index + 1] == "*" {
                    out += ".*"
                    index += 2
                    continue
                }
                out += "[^/]*"
            case "?":
                out += "[^/]"
            case "\\" where index + 1 < characters.count:
                index += 1
                out += literal(characters[index])
            case "[":
                if let (set, next) = bracket(characters, from: index) {
                    out += set
                    index = next
                    continue
                }
                out += "\\["
            default:
                out += literal(c)
            }
            index += 1
        }
        return out
    }

    /// `[…]` starting at `start`, as a pattern class, and the index after it; nil when unclosed.
    static func bracket(_ characters: [Character], from start: Int) -> (String, Int)? {
        var index = start + 1
        var out = "["
        if index < characters.count, characters[index] == "!" || characters[index] == "^" {
            out += "^"
            index += 1
        }
        var first = true
        while index < characters.count {
            let c = characters[index]
            if c == "]", !first { return (out + "]", index + 1) }
            first = false
            if c == "-", index > start + 1, index + 1 < characters.count, characters[index + 1] != "]" {
                out += "-"
            } else if c.isASCII && !(c.isLetter || c.isNumber) {
                out += "\\" + String(c)
            } else {
                out += String(c)
            }
            index += 1
        }
        return nil
    }
}
