/// How a package is installed, as the signed manifest says.
///
/// The kind decides which installer path runs: the terminal never guesses from the file name.
public enum PackageKind: String, Sendable, Codable, CaseIterable {
    /// An archive (tar, tar.gz or zip) whose content becomes a directory on the terminal,
    /// switched in atomically with the previous version kept for rollback.
    case files
    /// A shell script (or an archive holding one) run once with a timeout.
    case script
    /// A Debian package handed to `dpkg -i`.
    case deb
}
