// Boots the built default image with the console on this terminal (`npm start`).
// The VM gets a fresh copy-on-write overlay of out/qemu/disk.qcow2, the example machine
// config through fw_cfg, and restricted user networking (loopback forwards only).
import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { createMachine, loadImage } from '../vm/src/index.ts';

const config = `# The machine config npm start boots with (passed as fw_cfg opt/berth/config).
hostname: berth-demo
debug:
  shell: ttyS1
`;

const image = await loadImage();
const machine = await createMachine({ name: 'start', image, config });
await writeFile(machine.paths.configFile, config);
// The console goes to this terminal instead of a log file; Ctrl-A X leaves QEMU.
const argv = machine.argv().map((arg) => (arg.startsWith('file,id=console,') ? 'stdio,id=console,mux=on,signal=off' : arg));
argv.push('-mon', 'chardev=console,mode=readline');
const noReboot = argv.indexOf('-no-reboot');
if (noReboot >= 0) argv.splice(noReboot, 1);
console.log(`Booting berth ${image.manifest.version} (${machine.accel === 'kvm' ? 'KVM' : 'TCG software emulation'}); the console follows.`);
console.log('Leave with Ctrl-A X. Debug shell: socat - UNIX-CONNECT:' + machine.paths.shellSocket);
console.log('Wait for the line: BERTH-READY slot=a version=' + image.manifest.version + ' boot_ms=…\n');
const child = spawn('qemu-system-x86_64', argv, { stdio: 'inherit' });
child.on('exit', (code) => {
  console.log(`\nQEMU exited (${code ?? 'signal'}).`);
  process.exitCode = code ?? 1;
});
