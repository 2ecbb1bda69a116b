/// The unit template; must equal dist/piggyback-agent.service (a test compares them).
extension InstallServiceCommand {
    static let template = """
# Piggyback agent: resident from boot, rides along on the user's own connections.
# Installed by `piggyback agent install-service` (which fills in the binary and data paths),
# or by hand: copy to /etc/systemd/system/, adjust ExecStart, `systemctl enable --now`.
[Unit]
Description=Piggyback device-management agent
Documentation=https://example.invalid/piggyback/docs/GUIDE.md
After=local-fs.target
# Not network-online.target: the agent starts offline and waits for the network itself.

[Service]
Type=simple
ExecStart=@BINARY@ agent --data @DATA@
Restart=on-failure
RestartSec=10s
# SIGTERM: the current session is abandoned cleanly; transfers resume next time.
KillSignal=SIGTERM
TimeoutStopSec=30s

# Least privilege: a dynamic user with its own state directory. It reads /proc, /sys and the
# package databases (world-readable), logs in /var/log through the adm group, listens to
# route changes on netlink (no capability needed). Installing .deb packages needs root:
# for that, drop DynamicUser in an override (systemctl edit piggyback-agent).
DynamicUser=yes
StateDirectory=piggyback-agent
StateDirectoryMode=0700
SupplementaryGroups=adm
NoNewPrivileges=yes
CapabilityBoundingSet=
AmbientCapabilities=
ProtectSystem=strict
ProtectHome=read-only
PrivateTmp=yes
PrivateDevices=yes
ProtectKernelTunables=yes
ProtectKernelModules=yes
ProtectControlGroups=yes
RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6 AF_NETLINK
RestrictNamespaces=yes
LockPersonality=yes
MemoryDenyWriteExecute=yes
SystemCallArchitectures=native

# Stay out of the user's way.
Nice=10
CPUWeight=20
IOSchedulingClass=idle
MemoryMax=128M

[Install]
WantedBy=multi-user.target
"""
}
