/* IMPORTANT
 * This snapshot file is auto-generated, but designed for humans.
 * It should be checked into source control and tracked carefully.
 * Re-generate by setting TAP_SNAPSHOT=1 and running tests.
 * Make sure to inspect the output below.  Do not ignore changes!
 */
'use strict'
exports[`runtime/test/unit/container-plan.test.ts > TAP > a Compose service becomes config.json (snapshot) > must match snapshot 1`] = `
{
  "ociVersion": "1.2.0",
  "process": {
    "terminal": false,
    "user": {
      "uid": 0,
      "gid": 0
    },
    "args": [
      "/bin/httpd",
      "-f",
      "-p",
      "8080"
    ],
    "env": [
      "PATH=/bin",
      "HOSTNAME=www",
      "GREETING=hi"
    ],
    "cwd": "/",
    "capabilities": {
      "bounding": [
        "CAP_NET_BIND_SERVICE"
      ],
      "effective": [
        "CAP_NET_BIND_SERVICE"
      ],
      "permitted": [
        "CAP_NET_BIND_SERVICE"
      ]
    },
    "rlimits": [
      {
        "type": "RLIMIT_NOFILE",
        "soft": 1024,
        "hard": 524288
      }
    ],
    "noNewPrivileges": true,
    "oomScoreAdj": 0
  },
  "root": {
    "path": "/run/berth/containers/web/rootfs",
    "readonly": true
  },
  "hostname": "www",
  "mounts": [
    {
      "destination": "/proc",
      "type": "proc",
      "source": "proc",
      "options": [
        "nosuid",
        "noexec",
        "nodev"
      ]
    },
    {
      "destination": "/dev",
      "type": "tmpfs",
      "source": "tmpfs",
      "options": [
        "nosuid",
        "strictatime",
        "mode=755",
        "size=65536k"
      ]
    },
    {
      "destination": "/dev/pts",
      "type": "devpts",
      "source": "devpts",
      "options": [
        "nosuid",
        "noexec",
        "newinstance",
        "ptmxmode=0666",
        "mode=0620",
        "gid=5"
      ]
    },
    {
      "destination": "/sys",
      "type": "sysfs",
      "source": "sysfs",
      "options": [
        "nosuid",
        "noexec",
        "nodev",
        "ro"
      ]
    },
    {
      "destination": "/sys/fs/cgroup",
      "type": "cgroup",
      "source": "cgroup",
      "options": [
        "nosuid",
        "noexec",
        "nodev",
        "relatime",
        "ro"
      ]
    },
    {
      "destination": "/dev/mqueue",
      "type": "mqueue",
      "source": "mqueue",
      "options": [
        "nosuid",
        "noexec",
        "nodev"
      ]
    },
    {
      "destination": "/dev/shm",
      "type": "tmpfs",
      "source": "shm",
      "options": [
        "nosuid",
        "noexec",
        "nodev",
        "mode=1777",
        "size=67108864"
      ]
    },
    {
      "destination": "/etc/hosts",
      "type": "bind",
      "source": "/run/berth/containers/web/hosts",
      "options": [
        "rbind",
        "rprivate",
        "nosuid",
        "nodev",
        "noexec",
        "ro"
      ]
    },
    {
      "destination": "/etc/resolv.conf",
      "type": "bind",
      "source": "/run/berth/containers/web/resolv.conf",
      "options": [
        "rbind",
        "rprivate",
        "nosuid",
        "nodev",
        "noexec",
        "ro"
      ]
    },
    {
      "destination": "/etc/hostname",
      "type": "bind",
      "source": "/run/berth/containers/web/hostname",
      "options": [
        "rbind",
        "rprivate",
        "nosuid",
        "nodev",
        "noexec",
        "ro"
      ]
    },
    {
      "destination": "/data",
      "type": "bind",
      "source": "/var/lib/berth/volumes/data",
      "options": [
        "rbind",
        "rprivate",
        "rw"
      ]
    },
    {
      "destination": "/srv",
      "type": "bind",
      "source": "/var/www",
      "options": [
        "rbind",
        "rprivate",
        "ro"
      ]
    },
    {
      "destination": "/cache",
      "type": "tmpfs",
      "source": "tmpfs",
      "options": [
        "nosuid",
        "nodev",
        "noexec",
        "size=1048576"
      ]
    }
  ],
  "annotations": {
    "team": "web",
    "org.opencontainers.image.ref.name": "berth-test",
    "dev.berth.container": "web",
    "dev.berth.image.config": "sha256:1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e"
  },
  "linux": {
    "namespaces": [
      {
        "type": "pid"
      },
      {
        "type": "ipc"
      },
      {
        "type": "uts"
      },
      {
        "type": "mount"
      },
      {
        "type": "cgroup"
      },
      {
        "type": "network"
      }
    ],
    "cgroupsPath": "/berth.slice/web",
    "resources": {
      "devices": [
        {
          "allow": false,
          "access": "rwm"
        },
        {
          "allow": true,
          "type": "c",
          "access": "m"
        },
        {
          "allow": true,
          "type": "b",
          "access": "m"
        },
        {
          "allow": true,
          "type": "c",
          "major": 1,
          "minor": 3,
          "access": "rwm"
        },
        {
          "allow": true,
          "type": "c",
          "major": 1,
          "minor": 5,
          "access": "rwm"
        },
        {
          "allow": true,
          "type": "c",
          "major": 1,
          "minor": 7,
          "access": "rwm"
        },
        {
          "allow": true,
          "type": "c",
          "major": 1,
          "minor": 8,
          "access": "rwm"
        },
        {
          "allow": true,
          "type": "c",
          "major": 1,
          "minor": 9,
          "access": "rwm"
        },
        {
          "allow": true,
          "type": "c",
          "major": 5,
          "minor": 0,
          "access": "rwm"
        },
        {
          "allow": true,
          "type": "c",
          "major": 5,
          "minor": 1,
          "access": "rwm"
        },
        {
          "allow": true,
          "type": "c",
          "major": 5,
          "minor": 2,
          "access": "rwm"
        },
        {
          "allow": true,
          "type": "c",
          "major": 136,
          "access": "rwm"
        },
        {
          "allow": true,
          "type": "c",
          "major": 10,
          "minor": 200,
          "access": "rwm"
        }
      ],
      "memory": {
        "limit": 67108864,
        "swap": 134217728
      },
      "cpu": {
        "period": 100000,
        "quota": 50000
      },
      "pids": {
        "limit": 100
      }
    },
    "sysctl": {},
    "maskedPaths": [
      "/proc/asound",
      "/proc/acpi",
      "/proc/interrupts",
      "/proc/kcore",
      "/proc/keys",
      "/proc/latency_stats",
      "/proc/timer_list",
      "/proc/timer_stats",
      "/proc/sched_debug",
      "/proc/scsi",
      "/sys/firmware",
      "/sys/devices/virtual/powercap"
    ],
    "readonlyPaths": [
      "/proc/bus",
      "/proc/fs",
      "/proc/irq",
      "/proc/sys",
      "/proc/sysrq-trigger"
    ]
  }
}
`
