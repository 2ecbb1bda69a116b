import Logging
import Synchronization

/// Logging for the command-line tools: stderr, level from a flag, bootstrapped once.
public enum CommandLogging {
    static let bootstrapped = Mutex(false)

    /// A logger at `level` (falls back to `warning` for unknown names).
    public static func logger(label: String, level: String) -> Logger {
        let first = bootstrapped.withLock { done in
            defer { done = true }
            return !done
        }
        if first { LoggingSystem.bootstrap(StreamLogHandler.standardError) }
        var logger = Logger(label: label)
        logger.logLevel = Logger.Level(rawValue: level) ?? .warning
        return logger
    }
}
