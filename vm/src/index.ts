/**
 * The front door of the VM tool: everything `berth vm` and berth's own QEMU tests use to
 * build QEMU command lines, boot a built image on a copy-on-write overlay, read its console,
 * talk QMP and the debug shell, and make small OCI images offline. Other components import
 * only this file.
 */
export * from './qemu-argv.ts';
export * from './vm.ts';
export * from './console.ts';
export * from './qmp.ts';
export * from './markers.ts';
export * from './shell.ts';
export * from './unix-socket.ts';
export * from './image.ts';
export * from './oci-image.ts';
export * from './http.ts';
export * from './network-hub.ts';
export { freePort } from '../../lib/sys/free-port.ts';
