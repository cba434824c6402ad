/**
 * One request to a guest's management API over its Unix socket, sent by the guest's own node
 * through the debug shell (the image has no curl). The request is stamped with the guest's
 * /proc/uptime as it is sent, the clock of init's and the runtime's `t_ms` fields, so a bench
 * can time from the request without counting node's own start-up. Effects: one node process
 * in the guest.
 */
import type { DebugShell } from '../../vm/src/index.ts';

export interface GuestApiAnswer {
  status: number;
  body: string;
  /** Guest uptime in ms when the request was sent. */
  sentMs: number;
}

const GUEST_NODE = '/usr/lib/berth/node/bin/node';
const SOCKET = '/run/berth/api.sock';

/** node -e source (inside the shell's double quotes: no `"`, `$` or backquote). */
function requestScript(method: string, path: string): string {
  return (
    `const sent=Math.round(parseFloat(require('fs').readFileSync('/proc/uptime','utf8'))*1000);` +
    `require('http').request({socketPath:'${SOCKET}',method:'${method}',path:'${path}'},(res)=>{let b='';res.on('data',(c)=>b+=c);` +
    `res.on('end',()=>{console.log('status='+res.statusCode+' sent_ms='+sent);console.log(b)})}).end();`
  );
}

/** Sends the request; throws when the guest printed no answer. A non-2xx status is returned, not thrown. */
export async function guestApi(shell: Pick<DebugShell, 'check'>, method: string, path: string, timeoutMs = 60_000): Promise<GuestApiAnswer> {
  if (!/^[A-Z]+$/.test(method) || !/^\/[\w./{}?=&-]*$/.test(path)) throw new Error(`Not a request guestApi can quote: ${method} ${path}`);
  const output = await shell.check(`${GUEST_NODE} -e "${requestScript(method, path)}"`, { timeoutMs });
  const head = /status=(\d+) sent_ms=(\d+)\r?\n/.exec(output);
  if (!head) throw new Error(`${method} ${path} in the guest printed no answer:\n${output}`);
  return { status: Number(head[1]), sentMs: Number(head[2]), body: output.slice(head.index + head[0].length).trim() };
}

/** guestApi that requires a 2xx answer. */
export async function guestApiOk(shell: Pick<DebugShell, 'check'>, method: string, path: string, timeoutMs = 60_000): Promise<GuestApiAnswer> {
  const answer = await guestApi(shell, method, path, timeoutMs);
  if (answer.status < 200 || answer.status > 299) throw new Error(`${method} ${path} in the guest answered ${answer.status}: ${answer.body}`);
  return answer;
}
