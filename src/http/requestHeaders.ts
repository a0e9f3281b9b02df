/**
 * The four request headers the agent path reads, found in `req.rawHeaders`. Node builds
 * `req.headers` only when it is first read (an object, every name lowercased and matched against
 * its table of known fields); the agent path reads four values and builds nothing. Duplicates are
 * resolved as node resolves them in `req.headers`: the first Content-Type, Content-Length and
 * Authorization count, several Accept headers are joined with ", ".
 *
 * The fields are overwritten by the next `scan`: read them before anything else can run.
 */
export class RequestHeaders {
  contentType: string | undefined;
  contentLength: string | undefined;
  accept: string | undefined;
  authorization: string | undefined;

  scan(raw: readonly string[]): this {
    this.contentType = this.contentLength = this.accept = this.authorization = undefined;
    for (let i = 0; i < raw.length; i += 2) {
      const name = raw[i] as string;
      // The spellings clients send (Go's canonical form, all lowercase) are compared whole first.
      switch (name.length) {
        case 6:
          if (name === "Accept" || name === "accept" || same(name, "accept")) this.accept = this.accept === undefined ? raw[i + 1] : `${this.accept}, ${raw[i + 1]}`;
          break;
        case 12:
          if (this.contentType === undefined && (name === "Content-Type" || name === "content-type" || same(name, "content-type"))) this.contentType = raw[i + 1];
          break;
        case 13:
          if (this.authorization === undefined && (name === "Authorization" || name === "authorization" || same(name, "authorization"))) this.authorization = raw[i + 1];
          break;
        case 14:
          if (this.contentLength === undefined && (name === "Content-Length" || name === "content-length" || same(name, "content-length"))) this.contentLength = raw[i + 1];
          break;
      }
    }
    return this;
  }
}

/**
 * `name` equals `lower` (lowercase letters and "-") ignoring case. Header names are HTTP tokens
 * (node's parser refuses others), and the only token bytes that OR 0x20 maps onto a lowercase
 * letter or "-" are that letter in either case and "-" itself.
 */
function same(name: string, lower: string): boolean {
  for (let i = 0; i < lower.length; i++) if ((name.charCodeAt(i) | 0x20) !== lower.charCodeAt(i)) return false;
  return true;
}
