// Script verification by an interpreter we did not write (bitcore-lib's port of bitcoind's
// VerifyScript), so a transaction our own signing code got wrong is refused as bitcoind would.
/// <reference path="./types/bitcore-lib.d.ts" />
import bitcore from 'bitcore-lib';
import { RejectError } from './errors.ts';
import { scriptKind, type Tx, type TxOutput } from './tx.ts';

const { Interpreter } = bitcore.Script;

/**
 * bitcoind's mandatory flags for segwit v0, legacy and P2SH, plus taproot: bitcore implements
 * BIP 341/342 and gets every spent output (needed by the taproot sighash), so v1 spends are verified too.
 */
export const VERIFY_FLAGS =
  Interpreter.SCRIPT_VERIFY_P2SH |
  Interpreter.SCRIPT_VERIFY_STRICTENC |
  Interpreter.SCRIPT_VERIFY_DERSIG |
  Interpreter.SCRIPT_VERIFY_NULLDUMMY |
  Interpreter.SCRIPT_VERIFY_WITNESS |
  Interpreter.SCRIPT_VERIFY_CHECKLOCKTIMEVERIFY |
  Interpreter.SCRIPT_VERIFY_CHECKSEQUENCEVERIFY |
  Interpreter.SCRIPT_VERIFY_NULLFAIL |
  Interpreter.SCRIPT_VERIFY_TAPROOT;

// bitcore's SCRIPT_ERR_* names → bitcoind's ScriptErrorString texts (script/script_error.cpp).
const SCRIPT_ERROR_TEXT: Record<string, string> = {
  EVAL_FALSE: 'Script evaluated without error but finished with a false/empty top stack element',
  EVAL_FALSE_NO_RESULT: 'Script evaluated without error but finished with a false/empty top stack element',
  EVAL_FALSE_IN_STACK: 'Script evaluated without error but finished with a false/empty top stack element',
  EVAL_FALSE_NO_P2SH_STACK:
    'Script evaluated without error but finished with a false/empty top stack element',
  EVAL_FALSE_IN_P2SH_STACK:
    'Script evaluated without error but finished with a false/empty top stack element',
  VERIFY: 'Script failed an OP_VERIFY operation',
  EQUALVERIFY: 'Script failed an OP_EQUALVERIFY operation',
  CHECKMULTISIGVERIFY: 'Script failed an OP_CHECKMULTISIGVERIFY operation',
  CHECKSIGVERIFY: 'Script failed an OP_CHECKSIGVERIFY operation',
  NUMEQUALVERIFY: 'Script failed an OP_NUMEQUALVERIFY operation',
  SCRIPT_SIZE: 'Script is too big',
  PUSH_SIZE: 'Push value size limit exceeded',
  OP_COUNT: 'Operation limit exceeded',
  STACK_SIZE: 'Stack size limit exceeded',
  SIG_COUNT: 'Signature count negative or greater than pubkey count',
  PUBKEY_COUNT: 'Pubkey count negative or limit exceeded',
  BAD_OPCODE: 'Opcode missing or not understood',
  UNDEFINED_OPCODE: 'Opcode missing or not understood',
  DISABLED_OPCODE: 'Attempted to use a disabled opcode',
  INVALID_STACK_OPERATION: 'Operation not valid with the current stack size',
  INVALID_ALTSTACK_OPERATION: 'Operation not valid with the current altstack size',
  OP_RETURN: 'OP_RETURN was encountered',
  UNBALANCED_CONDITIONAL: 'Invalid OP_IF construction',
  NEGATIVE_LOCKTIME: 'Negative locktime',
  UNSATISFIED_LOCKTIME: 'Locktime requirement not satisfied',
  SIG_HASHTYPE: 'Signature hash type missing or not understood',
  SIG_DER: 'Non-canonical DER signature',
  SIG_DER_INVALID_FORMAT: 'Non-canonical DER signature',
  SIG_DER_HIGH_S: 'Non-canonical signature: S value is unnecessarily high',
  MINIMALDATA: 'Data push larger than necessary',
  SIG_PUSHONLY: 'Only push operators allowed in signatures',
  SIG_HIGH_S: 'Non-canonical signature: S value is unnecessarily high',
  SIG_NULLDUMMY: 'Dummy CHECKMULTISIG argument must be zero',
  MINIMALIF: 'OP_IF/NOTIF argument must be minimal',
  SIG_NULLFAIL: 'Signature must be zero for failed CHECK(MULTI)SIG operation',
  DISCOURAGE_UPGRADABLE_NOPS: 'NOPx reserved for soft-fork upgrades',
  DISCOURAGE_UPGRADABLE_WITNESS_PROGRAM: 'Witness version reserved for soft-fork upgrades',
  PUBKEYTYPE: 'Public key is neither compressed or uncompressed',
  CLEANSTACK: 'Stack size must be exactly one after execution',
  WITNESS_PROGRAM_WRONG_LENGTH: 'Witness program has incorrect length',
  WITNESS_PROGRAM_WITNESS_EMPTY: 'Witness program was passed an empty witness',
  WITNESS_PROGRAM_MISMATCH: 'Witness program hash mismatch',
  WITNESS_MALLEATED: 'Witness requires empty scriptSig',
  WITNESS_MALLEATED_P2SH: 'Witness requires only-redeemscript scriptSig',
  WITNESS_UNEXPECTED: 'Witness provided for non-witness script',
  WITNESS_PUBKEYTYPE: 'Using non-compressed keys in segwit',
  OP_CODESEPARATOR: 'Using OP_CODESEPARATOR in non-witness script',
  SIG_FINDANDDELETE: 'Signature is found in scriptCode',
  SCHNORR_SIG_SIZE: 'Invalid Schnorr signature size',
  SCHNORR_SIG_HASHTYPE: 'Invalid Schnorr signature hash type',
  SCHNORR_SIG: 'Invalid Schnorr signature',
  TAPROOT_WRONG_CONTROL_SIZE: 'Invalid Taproot control block size',
  TAPSCRIPT_VALIDATION_WEIGHT: 'Too much signature validation relative to witness weight',
  TAPSCRIPT_MINIMALIF: 'OP_IF/NOTIF argument must be minimal in tapscript',
  DISCOURAGE_OP_SUCCESS: 'OP_SUCCESSx reserved for soft-fork upgrades',
  DISCOURAGE_UPGRADABLE_TAPROOT_VERSION: 'Taproot version reserved for soft-fork upgrades',
  DISCOURAGE_UPGRADABLE_PUBKEYTYPE: 'Public key version reserved for soft-fork upgrades',
};

/** bitcoind's text for a bitcore error string such as `SCRIPT_ERR_SIG_NULLFAIL`. */
export function scriptErrorText(errstr: string): string {
  const key = errstr.replace(/^SCRIPT_ERR_/, '');
  return SCRIPT_ERROR_TEXT[key] ?? (key.startsWith('UNKNOWN_ERROR') ? 'unknown error' : key);
}

/**
 * Verify every input of `tx` against the outputs it spends (same order as tx.inputs).
 * Throws RejectError `mandatory-script-verify-flag-failed (<bitcoind text>)` on the first failure.
 */
export function verifyInputScripts(tx: Tx, spent: TxOutput[]): void {
  const btx = new bitcore.Transaction(Buffer.from(tx.raw));
  // Taproot sighashes commit to all spent amounts and scripts, which bitcore reads from input.output.
  spent.forEach((prev, i) => {
    btx.inputs[i]!.output = new bitcore.Transaction.Output({
      script: new bitcore.Script(Buffer.from(prev.script)),
      satoshis: Number(prev.value),
    });
  });
  tx.inputs.forEach((input, i) => {
    const prev = spent[i]!;
    const interpreter = new Interpreter();
    let ok: boolean;
    try {
      ok = interpreter.verify(
        new bitcore.Script(Buffer.from(input.scriptSig)),
        new bitcore.Script(Buffer.from(prev.script)),
        btx,
        i,
        VERIFY_FLAGS,
        input.witness.map((w) => Buffer.from(w)),
        Number(prev.value),
      );
    } catch (e) {
      // bitcore throws on scripts it cannot even parse; bitcoind would fail them too.
      interpreter.errstr = `SCRIPT_ERR_UNKNOWN_ERROR: ${(e as Error).message}`;
      ok = false;
    }
    // bitcore's key-path check fails without naming why; bitcoind calls it SCRIPT_ERR_SCHNORR_SIG.
    if (!ok && !interpreter.errstr && scriptKind(prev.script) === 'v1_p2tr')
      interpreter.errstr = 'SCRIPT_ERR_SCHNORR_SIG';
    if (!ok) {
      throw new RejectError(`mandatory-script-verify-flag-failed (${scriptErrorText(interpreter.errstr)})`);
    }
  });
}
