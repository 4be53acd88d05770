export { sendCusd, reserveSend, checkRequest, intentKey, InsufficientFundsError, InvalidSendError, NotCustodialError, type SendRequest, type SendResult, type Reservation } from './send.js';
export { sendIntents, transferIntentName } from './intents.js';
export { findSend, sendByKey, settleSend, type Send, type SendMode, type SendState } from './store.js';
export { sendSigned, decodeTransfer, type SignedSendRequest } from './signed.js';
export { decodeEvmTransfer, decodeSuiTransfer, InvalidSignedTransactionError, requireCusdCoins, type DecodedTransfer } from './decode.js';
export { prepareSend, prepareSponsoredSend, type PrepareRequest, type PreparedSend, type EvmSendRequest, type SuiSponsoredSend } from './prepare.js';
