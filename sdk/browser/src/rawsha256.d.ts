// The block function of @aws-crypto/sha256-js, imported on its own (its
// package index pulls in an async wrapper and tslib the SDK does not need).
declare module '@aws-crypto/sha256-js/build/module/RawSha256.js' {
  export class RawSha256 {
    update(data: Uint8Array): void;
    digest(): Uint8Array;
  }
}
