/**
 * Kernel modules init loads after switch_root, before it needs them: overlay (/etc),
 * vfat (ESP), efivarfs, qemu_fw_cfg (machine config), button and evdev (ACPI power
 * button as an input device), virtio_net, i6300esb (the QEMU watchdog init feeds).
 * Pure: names and argv only.
 */

export const INIT_KERNEL_MODULES = ['overlay', 'vfat', 'efivarfs', 'qemu_fw_cfg', 'button', 'evdev', 'virtio_net', 'i6300esb'] as const;

/** `modprobe` argv for one module (built-in modules succeed too, through modules.builtin). */
export function modprobeArgv(module: string): string[] {
  return [module];
}

/**
 * `modprobe` argv for several modules in one process (`-a`: each name a module, not a module and
 * its parameters). modprobe goes on past a module that fails and exits non-zero at the end.
 */
export function modprobeAllArgv(modules: readonly string[]): string[] {
  return modules.length === 1 ? modprobeArgv(modules[0] ?? '') : ['-a', ...modules];
}
