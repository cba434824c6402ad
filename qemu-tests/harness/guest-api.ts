/**
 * One request to a guest's management API over its Unix socket, sent by the guest's own node
 * through the debug shell (the image has no curl). The request is stamped with the guest's
 * /proc/uptime as it is sent (after node loaded its http module; with `warm`, after a first
 * request on the same client), the clock of init's and the runtime's `t_ms` fields, so a bench
 * can time from the request without counting the client's own start-up. Effects: one node
 * process in the guest.
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

/** How a request is sent: `warm` sends GET /v1/containers first on the same client and times only the second request. */
export interface GuestApiOptions {
  timeoutMs?: number;
  warm?: boolean;
}

/** node -e source (inside the shell's double quotes: no `"`, `$` or backquote). */
function requestScript(method: string, path: string, warm: boolean): string {
  const send =
    `const sent=Math.round(parseFloat(require('fs').readFileSync('/proc/uptime','utf8'))*1000);` +
    `http.request({socketPath:'${SOCKET}',method:'${method}',path:'${path}'},(res)=>{let b='';res.on('data',(c)=>b+=c);` +
    `res.on('end',()=>{console.log('status='+res.statusCode+' sent_ms='+sent);console.log(b)})}).end();`;
  // A client's first request also loads and compiles node's http client (100-500 ms under emulation): the warm-up pays that.
  const warmUp = `http.request({socketPath:'${SOCKET}',method:'GET',path:'/v1/containers'},(res)=>{res.resume();res.on('end',()=>{${send}})}).end();`;
  return `const http=require('http');${warm ? warmUp : send}`;
}

/** Sends the request; throws when the guest printed no answer. A non-2xx status is returned, not thrown. */
export async function guestApi(shell: Pick<DebugShell, 'check'>, method: string, path: string, options: GuestApiOptions = {}): Promise<GuestApiAnswer> {
  if (!/^[A-Z]+$/.test(method) || !/^\/[\w./{}?=&-]*$/.test(path)) throw new Error(`Not a request guestApi can quote: ${method} ${path}`);
  const output = await shell.check(`${GUEST_NODE} -e "${requestScript(method, path, options.warm === true)}"`, { timeoutMs: options.timeoutMs ?? 60_000 });
  const head = /status=(\d+) sent_ms=(\d+)\r?\n/.exec(output);
  if (!head) throw new Error(`${method} ${path} in the guest printed no answer:\n${output}`);
  return { status: Number(head[1]), sentMs: Number(head[2]), body: output.slice(head.index + head[0].length).trim() };
}

/** guestApi that requires a 2xx answer. */
export async function guestApiOk(shell: Pick<DebugShell, 'check'>, method: string, path: string, options: GuestApiOptions = {}): Promise<GuestApiAnswer> {
  const answer = await guestApi(shell, method, path, options);
  if (answer.status < 200 || answer.status > 299) throw new Error(`${method} ${path} in the guest answered ${answer.status}: ${answer.body}`);
  return answer;
}
