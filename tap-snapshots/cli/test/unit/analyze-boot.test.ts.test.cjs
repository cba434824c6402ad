/* IMPORTANT
 * This snapshot file is auto-generated, but designed for humans.
 * It should be checked into source control and tracked carefully.
 * Re-generate by setting TAP_SNAPSHOT=1 and running tests.
 * Make sure to inspect the output below.  Do not ignore changes!
 */
'use strict'
exports[`cli/test/unit/analyze-boot.test.ts > TAP > a berth console: kernel, initramfs steps, PID 1 stages, BERTH-READY > rows as text 1`] = `
    start       end      took  what
      0ms     1.50s     1.50s  firmware + boot loader
    1.50s     3.35s     1.85s  kernel
    3.35s     6.54s     3.19s  initramfs
    3.35s     4.17s     820ms  initramfs: modules
    4.17s     4.22s      50ms  initramfs: find-root
    4.22s     4.30s      80ms  initramfs: mount-root
    4.30s     6.54s     2.24s  initramfs: switch_root, node start
    6.54s     9.31s     2.77s  init (PID 1) to ready
    6.55s     7.04s     489ms  mount-api
    7.04s     7.07s      28ms  kernel-setup
    7.07s     7.91s     837ms  modules
    7.91s     7.99s      77ms  mount-efivarfs
    8.00s     8.06s      65ms  cgroups
    8.06s     9.03s     969ms  mount-var
    9.03s     9.06s      32ms  log-file
    9.06s     9.14s      78ms  mount-etc
    9.14s     9.23s      89ms  config
    9.23s     9.26s      31ms  debug-shell
    9.26s     9.30s      38ms  power-button
    9.31s                      BERTH-READY

`

exports[`cli/test/unit/analyze-boot.test.ts > TAP > a berth console: kernel, initramfs steps, PID 1 stages, BERTH-READY > svg 1`] = `
<svg xmlns="http://www.w3.org/2000/svg" width="1032" height="514" viewBox="0 0 1032 514" font-family="DejaVu Sans, Verdana, sans-serif" font-size="11">
<rect width="100%" height="100%" fill="#ffffff"/>
<text x="16" y="22" font-size="16" font-weight="bold">berth fixture</text>
<text x="16" y="42" fill="#444">BERTH-READY at 9.31s · 0 = QEMU start</text>
<rect x="16" y="58" width="12" height="12" fill="#9e9e9e"/>
<text x="32" y="68">firmware, boot loader</text>
<rect x="188.6" y="58" width="12" height="12" fill="#e69138"/>
<text x="204.6" y="68">kernel</text>
<rect x="262.2" y="58" width="12" height="12" fill="#f1c232"/>
<text x="278.2" y="68">initramfs</text>
<rect x="355.6" y="58" width="12" height="12" fill="#9fc5e8"/>
<text x="371.6" y="68">PID 1 (init)</text>
<rect x="468.8" y="58" width="12" height="12" fill="#3d85c6"/>
<text x="484.8" y="68">init stage</text>
<line x1="16" y1="96" x2="16" y2="484" stroke="#bbb" stroke-width="1"/>
<text x="16" y="93" text-anchor="middle" fill="#555">0s</text>
<text x="16" y="498" text-anchor="middle" fill="#555">0s</text>
<line x1="116" y1="96" x2="116" y2="484" stroke="#e4e4e4" stroke-width="1"/>
<text x="116" y="93" text-anchor="middle" fill="#555">1s</text>
<text x="116" y="498" text-anchor="middle" fill="#555">1s</text>
<line x1="216" y1="96" x2="216" y2="484" stroke="#e4e4e4" stroke-width="1"/>
<text x="216" y="93" text-anchor="middle" fill="#555">2s</text>
<text x="216" y="498" text-anchor="middle" fill="#555">2s</text>
<line x1="316" y1="96" x2="316" y2="484" stroke="#e4e4e4" stroke-width="1"/>
<text x="316" y="93" text-anchor="middle" fill="#555">3s</text>
<text x="316" y="498" text-anchor="middle" fill="#555">3s</text>
<line x1="416" y1="96" x2="416" y2="484" stroke="#e4e4e4" stroke-width="1"/>
<text x="416" y="93" text-anchor="middle" fill="#555">4s</text>
<text x="416" y="498" text-anchor="middle" fill="#555">4s</text>
<line x1="516" y1="96" x2="516" y2="484" stroke="#bbb" stroke-width="1"/>
<text x="516" y="93" text-anchor="middle" fill="#555">5s</text>
<text x="516" y="498" text-anchor="middle" fill="#555">5s</text>
<line x1="616" y1="96" x2="616" y2="484" stroke="#e4e4e4" stroke-width="1"/>
<text x="616" y="93" text-anchor="middle" fill="#555">6s</text>
<text x="616" y="498" text-anchor="middle" fill="#555">6s</text>
<line x1="716" y1="96" x2="716" y2="484" stroke="#e4e4e4" stroke-width="1"/>
<text x="716" y="93" text-anchor="middle" fill="#555">7s</text>
<text x="716" y="498" text-anchor="middle" fill="#555">7s</text>
<line x1="816" y1="96" x2="816" y2="484" stroke="#e4e4e4" stroke-width="1"/>
<text x="816" y="93" text-anchor="middle" fill="#555">8s</text>
<text x="816" y="498" text-anchor="middle" fill="#555">8s</text>
<line x1="916" y1="96" x2="916" y2="484" stroke="#e4e4e4" stroke-width="1"/>
<text x="916" y="93" text-anchor="middle" fill="#555">9s</text>
<text x="916" y="498" text-anchor="middle" fill="#555">9s</text>
<line x1="1016" y1="96" x2="1016" y2="484" stroke="#bbb" stroke-width="1"/>
<text x="1016" y="93" text-anchor="middle" fill="#555">10s</text>
<text x="1016" y="498" text-anchor="middle" fill="#555">10s</text>
<rect x="16" y="107" width="150" height="14" fill="#9e9e9e" rx="2"><title>firmware + boot loader: 0ms → 1.50s</title></rect>
<text x="172" y="118">firmware + boot loader (1.50s)</text>
<rect x="16" y="124" width="1000" height="20" fill="#000" fill-opacity="0.03"/>
<rect x="166" y="127" width="185" height="14" fill="#e69138" rx="2"><title>kernel: 1.50s → 3.35s</title></rect>
<text x="357" y="138">kernel (1.85s)</text>
<rect x="351" y="147" width="319" height="14" fill="#f1c232" rx="2"><title>initramfs: 3.35s → 6.54s</title></rect>
<text x="676" y="158">initramfs (3.19s)</text>
<rect x="16" y="164" width="1000" height="20" fill="#000" fill-opacity="0.03"/>
<rect x="351" y="167" width="82" height="14" fill="#f1c232" rx="2"><title>initramfs: modules: 3.35s → 4.17s</title></rect>
<text x="439" y="178">initramfs: modules (820ms)</text>
<rect x="433" y="187" width="5" height="14" fill="#f1c232" rx="2"><title>initramfs: find-root: 4.17s → 4.22s</title></rect>
<text x="444" y="198">initramfs: find-root (50ms)</text>
<rect x="16" y="204" width="1000" height="20" fill="#000" fill-opacity="0.03"/>
<rect x="438" y="207" width="8" height="14" fill="#f1c232" rx="2"><title>initramfs: mount-root: 4.22s → 4.30s</title></rect>
<text x="452" y="218">initramfs: mount-root (80ms)</text>
<rect x="446" y="227" width="224" height="14" fill="#f1c232" rx="2"><title>initramfs: switch_root, node start: 4.30s → 6.54s</title></rect>
<text x="676" y="238">initramfs: switch_root, node start (2.24s)</text>
<rect x="16" y="244" width="1000" height="20" fill="#000" fill-opacity="0.03"/>
<rect x="670" y="247" width="277" height="14" fill="#9fc5e8" rx="2"><title>init (PID 1) to ready: 6.54s → 9.31s</title></rect>
<text x="664" y="258" text-anchor="end">init (PID 1) to ready (2.77s)</text>
<rect x="671.1" y="267" width="48.9" height="14" fill="#3d85c6" rx="2"><title>mount-api: 6.55s → 7.04s</title></rect>
<text x="726" y="278">mount-api (489ms)</text>
<rect x="16" y="284" width="1000" height="20" fill="#000" fill-opacity="0.03"/>
<rect x="720.2" y="287" width="2.8" height="14" fill="#3d85c6" rx="2"><title>kernel-setup: 7.04s → 7.07s</title></rect>
<text x="729" y="298">kernel-setup (28ms)</text>
<rect x="723.3" y="307" width="83.7" height="14" fill="#3d85c6" rx="2"><title>modules: 7.07s → 7.91s</title></rect>
<text x="813" y="318">modules (837ms)</text>
<rect x="16" y="324" width="1000" height="20" fill="#000" fill-opacity="0.03"/>
<rect x="807.3" y="327" width="7.7" height="14" fill="#3d85c6" rx="2"><title>mount-efivarfs: 7.91s → 7.99s</title></rect>
<text x="821" y="338">mount-efivarfs (77ms)</text>
<rect x="815.5" y="347" width="6.5" height="14" fill="#3d85c6" rx="2"><title>cgroups: 8.00s → 8.06s</title></rect>
<text x="828" y="358">cgroups (65ms)</text>
<rect x="16" y="364" width="1000" height="20" fill="#000" fill-opacity="0.03"/>
<rect x="822.1" y="367" width="96.9" height="14" fill="#3d85c6" rx="2"><title>mount-var: 8.06s → 9.03s</title></rect>
<text x="816.1" y="378" text-anchor="end">mount-var (969ms)</text>
<rect x="918.8" y="387" width="3.2" height="14" fill="#3d85c6" rx="2"><title>log-file: 9.03s → 9.06s</title></rect>
<text x="928" y="398">log-file (32ms)</text>
<rect x="16" y="404" width="1000" height="20" fill="#000" fill-opacity="0.03"/>
<rect x="922.2" y="407" width="7.8" height="14" fill="#3d85c6" rx="2"><title>mount-etc: 9.06s → 9.14s</title></rect>
<text x="916.2" y="418" text-anchor="end">mount-etc (78ms)</text>
<rect x="930.1" y="427" width="8.9" height="14" fill="#3d85c6" rx="2"><title>config: 9.14s → 9.23s</title></rect>
<text x="945" y="438">config (89ms)</text>
<rect x="16" y="444" width="1000" height="20" fill="#000" fill-opacity="0.03"/>
<rect x="938.9" y="447" width="3.1" height="14" fill="#3d85c6" rx="2"><title>debug-shell: 9.23s → 9.26s</title></rect>
<text x="932.9" y="458" text-anchor="end">debug-shell (31ms)</text>
<rect x="942.2" y="467" width="3.8" height="14" fill="#3d85c6" rx="2"><title>power-button: 9.26s → 9.30s</title></rect>
<text x="936.2" y="478" text-anchor="end">power-button (38ms)</text>
<line x1="947" y1="96" x2="947" y2="484" stroke="#cc0000" stroke-width="1.5" stroke-dasharray="5 3"/>
<text x="947" y="512" text-anchor="middle" fill="#cc0000" font-weight="bold">BERTH-READY 9.31s</text>
</svg>

`

exports[`cli/test/unit/analyze-boot.test.ts > TAP > a peer's systemd console: kernel, userspace, the critical chain, the ready marker > rows as text 1`] = `
    start       end      took  what
      0ms     2.00s     2.00s  firmware + boot loader
    2.00s    13.17s    11.17s  kernel (+ initramfs)
   13.17s 1min 0.7s    47.54s  systemd (userspace)
   27.60s    27.60s            local-fs.target
   27.64s    28.48s     847ms  systemd-tmpfiles-setup.service
   28.55s    30.74s     2.19s  ldconfig.service
   30.88s    32.32s     1.44s  systemd-update-done.service
   32.32s    32.32s            dev-vda1.device
   32.73s    32.73s            sysinit.target
   32.92s    32.92s            basic.target
   32.92s    32.92s            sockets.target
   32.92s    32.92s            systemd-hostnamed.socket
   32.92s 1min 0.6s    27.68s  berth-bench-container.service
   35.44s    40.89s     5.45s  systemd-logind.service
   38.77s    44.86s     6.09s  efi.mount
1min 0.7s 1min 0.7s            multi-user.target
1min 0.7s 1min 0.7s            graphical.target
1min 0.7s                      system up

`

exports[`cli/test/unit/analyze-boot.test.ts > TAP > a peer's systemd console: kernel, userspace, the critical chain, the ready marker > svg 1`] = `
<svg xmlns="http://www.w3.org/2000/svg" width="1032" height="474" viewBox="0 0 1032 474" font-family="DejaVu Sans, Verdana, sans-serif" font-size="11">
<rect width="100%" height="100%" fill="#ffffff"/>
<text x="16" y="22" font-size="16" font-weight="bold">peer fixture</text>
<text x="16" y="42" fill="#444">system up at 1min 0.7s · 0 = QEMU start</text>
<rect x="16" y="58" width="12" height="12" fill="#9e9e9e"/>
<text x="32" y="68">firmware, boot loader</text>
<rect x="188.6" y="58" width="12" height="12" fill="#e69138"/>
<text x="204.6" y="68">kernel</text>
<rect x="262.2" y="58" width="12" height="12" fill="#b4a7d6"/>
<text x="278.2" y="68">systemd userspace</text>
<rect x="408.4" y="58" width="12" height="12" fill="#8e7cc3"/>
<text x="424.4" y="68">unit (critical chain)</text>
<line x1="16" y1="96" x2="16" y2="444" stroke="#bbb" stroke-width="1"/>
<text x="16" y="93" text-anchor="middle" fill="#555">0s</text>
<text x="16" y="458" text-anchor="middle" fill="#555">0s</text>
<line x1="92.9" y1="96" x2="92.9" y2="444" stroke="#e4e4e4" stroke-width="1"/>
<text x="92.9" y="93" text-anchor="middle" fill="#555">5s</text>
<text x="92.9" y="458" text-anchor="middle" fill="#555">5s</text>
<line x1="169.8" y1="96" x2="169.8" y2="444" stroke="#e4e4e4" stroke-width="1"/>
<text x="169.8" y="93" text-anchor="middle" fill="#555">10s</text>
<text x="169.8" y="458" text-anchor="middle" fill="#555">10s</text>
<line x1="246.8" y1="96" x2="246.8" y2="444" stroke="#e4e4e4" stroke-width="1"/>
<text x="246.8" y="93" text-anchor="middle" fill="#555">15s</text>
<text x="246.8" y="458" text-anchor="middle" fill="#555">15s</text>
<line x1="323.7" y1="96" x2="323.7" y2="444" stroke="#e4e4e4" stroke-width="1"/>
<text x="323.7" y="93" text-anchor="middle" fill="#555">20s</text>
<text x="323.7" y="458" text-anchor="middle" fill="#555">20s</text>
<line x1="400.6" y1="96" x2="400.6" y2="444" stroke="#bbb" stroke-width="1"/>
<text x="400.6" y="93" text-anchor="middle" fill="#555">25s</text>
<text x="400.6" y="458" text-anchor="middle" fill="#555">25s</text>
<line x1="477.5" y1="96" x2="477.5" y2="444" stroke="#e4e4e4" stroke-width="1"/>
<text x="477.5" y="93" text-anchor="middle" fill="#555">30s</text>
<text x="477.5" y="458" text-anchor="middle" fill="#555">30s</text>
<line x1="554.5" y1="96" x2="554.5" y2="444" stroke="#e4e4e4" stroke-width="1"/>
<text x="554.5" y="93" text-anchor="middle" fill="#555">35s</text>
<text x="554.5" y="458" text-anchor="middle" fill="#555">35s</text>
<line x1="631.4" y1="96" x2="631.4" y2="444" stroke="#e4e4e4" stroke-width="1"/>
<text x="631.4" y="93" text-anchor="middle" fill="#555">40s</text>
<text x="631.4" y="458" text-anchor="middle" fill="#555">40s</text>
<line x1="708.3" y1="96" x2="708.3" y2="444" stroke="#e4e4e4" stroke-width="1"/>
<text x="708.3" y="93" text-anchor="middle" fill="#555">45s</text>
<text x="708.3" y="458" text-anchor="middle" fill="#555">45s</text>
<line x1="785.2" y1="96" x2="785.2" y2="444" stroke="#bbb" stroke-width="1"/>
<text x="785.2" y="93" text-anchor="middle" fill="#555">50s</text>
<text x="785.2" y="458" text-anchor="middle" fill="#555">50s</text>
<line x1="862.2" y1="96" x2="862.2" y2="444" stroke="#e4e4e4" stroke-width="1"/>
<text x="862.2" y="93" text-anchor="middle" fill="#555">55s</text>
<text x="862.2" y="458" text-anchor="middle" fill="#555">55s</text>
<line x1="939.1" y1="96" x2="939.1" y2="444" stroke="#e4e4e4" stroke-width="1"/>
<text x="939.1" y="93" text-anchor="middle" fill="#555">60s</text>
<text x="939.1" y="458" text-anchor="middle" fill="#555">60s</text>
<line x1="1016" y1="96" x2="1016" y2="444" stroke="#e4e4e4" stroke-width="1"/>
<text x="1016" y="93" text-anchor="middle" fill="#555">65s</text>
<text x="1016" y="458" text-anchor="middle" fill="#555">65s</text>
<rect x="16" y="107" width="30.8" height="14" fill="#9e9e9e" rx="2"><title>firmware + boot loader: 0ms → 2.00s</title></rect>
<text x="52.8" y="118">firmware + boot loader (2.00s)</text>
<rect x="16" y="124" width="1000" height="20" fill="#000" fill-opacity="0.03"/>
<rect x="46.8" y="127" width="171.8" height="14" fill="#e69138" rx="2"><title>kernel (+ initramfs): 2.00s → 13.17s</title></rect>
<text x="224.6" y="138">kernel (+ initramfs) (11.17s)</text>
<rect x="218.6" y="147" width="731.4" height="14" fill="#b4a7d6" rx="2"><title>systemd (userspace): 13.17s → 1min 0.7s</title></rect>
<text x="212.6" y="158" text-anchor="end">systemd (userspace) (47.54s)</text>
<rect x="16" y="164" width="1000" height="20" fill="#000" fill-opacity="0.03"/>
<path d="M440.6 167 l5 7 l-5 7 l-5 -7 z" fill="#8e7cc3"/>
<text x="446.6" y="178">local-fs.target @27.60s</text>
<rect x="441.2" y="187" width="13" height="14" fill="#8e7cc3" rx="2"><title>systemd-tmpfiles-setup.service: 27.64s → 28.48s</title></rect>
<text x="460.2" y="198">systemd-tmpfiles-setup.service (847ms)</text>
<rect x="16" y="204" width="1000" height="20" fill="#000" fill-opacity="0.03"/>
<rect x="455.2" y="207" width="33.8" height="14" fill="#8e7cc3" rx="2"><title>ldconfig.service: 28.55s → 30.74s</title></rect>
<text x="494.9" y="218">ldconfig.service (2.19s)</text>
<rect x="491.1" y="227" width="22.2" height="14" fill="#8e7cc3" rx="2"><title>systemd-update-done.service: 30.88s → 32.32s</title></rect>
<text x="519.3" y="238">systemd-update-done.service (1.44s)</text>
<rect x="16" y="244" width="1000" height="20" fill="#000" fill-opacity="0.03"/>
<path d="M513.2 247 l5 7 l-5 7 l-5 -7 z" fill="#8e7cc3"/>
<text x="519.2" y="258">dev-vda1.device @32.32s</text>
<path d="M519.6 267 l5 7 l-5 7 l-5 -7 z" fill="#8e7cc3"/>
<text x="525.6" y="278">sysinit.target @32.73s</text>
<rect x="16" y="284" width="1000" height="20" fill="#000" fill-opacity="0.03"/>
<path d="M522.5 287 l5 7 l-5 7 l-5 -7 z" fill="#8e7cc3"/>
<text x="528.5" y="298">basic.target @32.92s</text>
<path d="M522.5 307 l5 7 l-5 7 l-5 -7 z" fill="#8e7cc3"/>
<text x="528.5" y="318">sockets.target @32.92s</text>
<rect x="16" y="324" width="1000" height="20" fill="#000" fill-opacity="0.03"/>
<path d="M522.5 327 l5 7 l-5 7 l-5 -7 z" fill="#8e7cc3"/>
<text x="528.5" y="338">systemd-hostnamed.socket @32.92s</text>
<rect x="522.5" y="347" width="425.9" height="14" fill="#8e7cc3" rx="2"><title>berth-bench-container.service: 32.92s → 1min 0.6s</title></rect>
<text x="516.5" y="358" text-anchor="end">berth-bench-container.service (27.68s)</text>
<rect x="16" y="364" width="1000" height="20" fill="#000" fill-opacity="0.03"/>
<rect x="561.2" y="367" width="83.8" height="14" fill="#8e7cc3" rx="2"><title>systemd-logind.service: 35.44s → 40.89s</title></rect>
<text x="651" y="378">systemd-logind.service (5.45s)</text>
<rect x="612.4" y="387" width="93.7" height="14" fill="#8e7cc3" rx="2"><title>efi.mount: 38.77s → 44.86s</title></rect>
<text x="712.1" y="398">efi.mount (6.09s)</text>
<rect x="16" y="404" width="1000" height="20" fill="#000" fill-opacity="0.03"/>
<path d="M949.8 407 l5 7 l-5 7 l-5 -7 z" fill="#8e7cc3"/>
<text x="943.8" y="418" text-anchor="end">multi-user.target @1min 0.7s</text>
<path d="M949.9 427 l5 7 l-5 7 l-5 -7 z" fill="#8e7cc3"/>
<text x="943.9" y="438" text-anchor="end">graphical.target @1min 0.7s</text>
<line x1="950.5" y1="96" x2="950.5" y2="444" stroke="#cc0000" stroke-width="1.5" stroke-dasharray="5 3"/>
<text x="950.5" y="472" text-anchor="middle" fill="#cc0000" font-weight="bold">system up 1min 0.7s</text>
</svg>

`
