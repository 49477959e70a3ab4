// The slice of bitcore-lib's (untyped, CommonJS) API that verify.ts uses.
declare module 'bitcore-lib' {
  class Script {
    constructor(from?: Buffer);
  }
  class Output {
    constructor(args: { script: Script; satoshis: number });
  }
  class Input {
    output?: Output;
  }
  class Transaction {
    constructor(raw: Buffer);
    inputs: Input[];
    static Output: typeof Output;
  }
  class Interpreter {
    errstr: string;
    verify(
      scriptSig: Script,
      scriptPubkey: Script,
      tx: Transaction,
      nin: number,
      flags: number,
      witness: Buffer[],
      satoshis: number,
    ): boolean;
    static SCRIPT_VERIFY_P2SH: number;
    static SCRIPT_VERIFY_STRICTENC: number;
    static SCRIPT_VERIFY_DERSIG: number;
    static SCRIPT_VERIFY_NULLDUMMY: number;
    static SCRIPT_VERIFY_CHECKLOCKTIMEVERIFY: number;
    static SCRIPT_VERIFY_CHECKSEQUENCEVERIFY: number;
    static SCRIPT_VERIFY_WITNESS: number;
    static SCRIPT_VERIFY_NULLFAIL: number;
    static SCRIPT_VERIFY_TAPROOT: number;
  }
  const bitcore: {
    Script: typeof Script & { Interpreter: typeof Interpreter };
    Transaction: typeof Transaction;
  };
  export default bitcore;
}
