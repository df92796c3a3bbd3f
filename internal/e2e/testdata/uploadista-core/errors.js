// UploadistaError as @uploadista/kv-store-cloudflare-do uses it: an error
// with a code, made by fromCode.
export class UploadistaError extends Error {
  constructor(code, options) {
    super(code, options);
    this.name = "UploadistaError";
    this.code = code;
  }
  static fromCode(code, options) {
    return new UploadistaError(code, options);
  }
}
