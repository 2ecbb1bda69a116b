/// Whether the terminal can reach the world, and through which interface.
enum Connectivity: Sendable, Equatable {
    case offline
    case online(interface: String)
}

extension NetworkSnapshot {
    static let mainTable: UInt32 = 254          // RT_TABLE_MAIN
    static let unicastRoute: UInt8 = 1          // RTN_UNICAST
    static let deadNextHop: UInt32 = 0x1        // RTNH_F_DEAD
    static let linkDownNextHop: UInt32 = 0x10   // RTNH_F_LINKDOWN
    static let interfaceUp: UInt32 = 0x1        // IFF_UP
    static let interfaceLoopback: UInt32 = 0x8  // IFF_LOOPBACK
    static let interfaceRunning: UInt32 = 0x40  // IFF_RUNNING: operationally up (or unknown)
    static let linkScope: UInt8 = 253           // RT_SCOPE_LINK
    static let tentativeAddress: UInt32 = 0x40  // IFA_F_TENTATIVE (IPv6 DAD not done)
    static let failedAddress: UInt32 = 0x08     // IFA_F_DADFAILED

    /// Online when the main table has a unicast default route (0.0.0.0/0 or ::/0) whose next
    /// hop is an interface that is up and running, is not loopback, and holds a usable
    /// address of the route's family (wider than link scope, not tentative). Of several, the
    /// lowest metric wins, IPv4 before IPv6 on a tie.
    var connectivity: Connectivity {
        var best: (priority: UInt32, family: UInt8, name: String)?
        for route in routes where isDefault(route) {
            for hop in route.nextHops where UInt32(hop.flags) & (Self.deadNextHop | Self.linkDownNextHop) == 0 {
                guard let link = links[hop.interface], isUsable(link, family: route.family) else { continue }
                let candidate = (priority: route.priority, family: route.family, name: link.name)
                if let current = best, (current.priority, current.family, current.name) <= (candidate.priority, candidate.family, candidate.name) {
                    continue
                }
                best = candidate
            }
        }
        return best.map { .online(interface: $0.name) } ?? .offline
    }

    private func isDefault(_ route: Route) -> Bool {
        (route.family == Netlink.familyIPv4 || route.family == Netlink.familyIPv6)
            && route.destinationLength == 0
            && route.table == Self.mainTable
            && route.type == Self.unicastRoute
            && route.flags & (Self.deadNextHop | Self.linkDownNextHop) == 0
    }

    private func isUsable(_ link: Link, family: UInt8) -> Bool {
        let needed = Self.interfaceUp | Self.interfaceRunning
        guard link.flags & needed == needed, link.flags & Self.interfaceLoopback == 0 else { return false }
        return addresses.contains {
            $0.index == link.index && $0.family == family && $0.scope < Self.linkScope
                && $0.flags & (Self.tentativeAddress | Self.failedAddress) == 0
        }
    }
}
