/**
 * A request path fit for logs, traces and error answers: the token of a webhook is its
 * credential, so whatever follows `/hooks/` is masked (an approval link's too, after `/approvals/`), and so is anything shaped like a token
 * elsewhere in the path (a token sent to a mistyped path is still a token).
 * @example redactPath('/hooks/whk_abc') // '/hooks/:token'
 */
export function redactPath(path: string): string {
  return path
    .replace(/^\/+hooks\/.*$/is, '/hooks/:token')
    .replace(/^\/+approvals\/.*$/is, '/approvals/:tenant/:token')
    .replace(/whk_[A-Za-z0-9_-]*/g, 'whk_***');
}
