export { sendCusd, reserveSend, checkRequest, InsufficientFundsError, InvalidSendError, NotCustodialError, type SendRequest, type SendResult, type Reservation } from './send.js';
export { sendIntents, transferIntentName } from './intents.js';
export { findSend, sendByKey, settleSend, type Send, type SendMode, type SendState } from './store.js';
