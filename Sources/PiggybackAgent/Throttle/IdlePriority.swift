#if canImport(Glibc)
import Glibc
#endif

/// Puts the calling thread at idle CPU and I/O priority, so the agent's heavy work (hashing,
/// unpacking, installing) runs only on time and disk bandwidth nobody else wants.
///
/// - CPU: `SCHED_IDLE` (below nice 19: runs only when no normal task is runnable) and nice 19,
///   the fallback if the policy cannot be changed.
/// - I/O: `ioprio_set(IOPRIO_WHO_PROCESS, 0, IOPRIO_CLASS_IDLE)`: the disk serves us only when
///   idle (honoured by the BFQ scheduler; ignored by none/mq-deadline, harmless there).
///
/// On Linux all three apply to the calling thread only (tid 0 = caller), so call it on a
/// thread of our own (see `IdleThread`), never on a Swift concurrency pool thread, which the
/// network session shares. Child processes inherit the settings. Lowering needs no privileges;
/// raising back does, so a thread set idle stays idle.
public enum IdlePriority {
    static let schedulerIdle: Int32 = 5          // SCHED_IDLE (not imported: __USE_GNU)
    static let ioClassIdle: Int32 = 3            // IOPRIO_CLASS_IDLE
    static let ioClassShift: Int32 = 13          // IOPRIO_CLASS_SHIFT
    static let ioWhoProcess: Int32 = 1           // IOPRIO_WHO_PROCESS (a tid for threads)

    /// Lowers the calling thread's CPU and I/O priority. Tries every step; throws the first
    /// failure after trying the rest (the caller logs it and carries on).
    public static func applyToCurrentThread() throws(ThrottleError) {
        var failure: ThrottleError?
        var parameters = sched_param()
        parameters.sched_priority = 0
        if sched_setscheduler(0, schedulerIdle, &parameters) != 0 {
            failure = .system(.cpuPriority, "cannot set SCHED_IDLE", errno: errno, hint: "running at nice 19 instead")
        }
        if setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, 19) != 0, failure == nil {
            failure = .system(.cpuPriority, "cannot set nice 19", errno: errno, hint: "the work runs at normal CPU priority")
        }
        if ioPriorityCall(set: true, value: (ioClassIdle << ioClassShift)) < 0, failure == nil {
            failure = .system(.ioPriority, "cannot set the idle I/O class", errno: errno,
                              hint: "the work runs at normal I/O priority")
        }
        if let failure { throw failure }
    }

    /// Whether the calling thread runs under SCHED_IDLE.
    public static var currentThreadIsIdleCPU: Bool {
        sched_getscheduler(0) == schedulerIdle
    }

    /// The calling thread's I/O scheduling class (0 none, 1 realtime, 2 best effort, 3 idle),
    /// nil when it cannot be read.
    public static var currentThreadIOClass: Int32? {
        let value = ioPriorityCall(set: false, value: 0)
        return value < 0 ? nil : Int32(value) >> ioClassShift
    }

    /// The ioprio_set/ioprio_get system calls, which glibc does not wrap and Swift cannot call
    /// through the variadic `syscall`; the symbol is called with fixed integer arguments,
    /// which the x86-64 and AArch64 ABIs pass the same way.
    private static func ioPriorityCall(set: Bool, value: Int32) -> Int {
        #if arch(x86_64)
        let number = set ? 251 : 252
        #elseif arch(arm64)
        let number = set ? 30 : 31
        #else
        errno = ENOSYS
        return -1
        #endif
        #if arch(x86_64) || arch(arm64)
        typealias Syscall = @convention(c) (Int, Int, Int, Int) -> Int
        guard let symbol = dlsym(nil, "syscall") else {
            errno = ENOSYS
            return -1
        }
        let call = unsafeBitCast(symbol, to: Syscall.self)
        return set ? call(number, Int(ioWhoProcess), 0, Int(value)) : call(number, Int(ioWhoProcess), 0, 0)
        #endif
    }
}
