/**
 * The payments app's GraphQL schema (seed 002's web process), in SDL. Every
 * type, field, argument and enum value has a description: introspection is the
 * API's documentation (test/apps/payments/graphql.test.ts holds it to that).
 */
export const schema = /* GraphQL */ `
"""
Confío payments: a user's accounts, balances and history, sends of cUSD, and payments as they arrive.

Authentication: an API key in \`Authorization: Bearer lsk_…\` (over WebSocket, in connection_init's payload as
\`{ "authorization": "Bearer lsk_…" }\`). A user's key has role \`payments.user\` and scope \`{ user: "<user id>" }\`
and sees only that user; an admin key sees every user and must name the user or account.

Amounts: integers in the token's base units, as decimal strings (cUSD has 6 decimals: "5000000" is 5.00 cUSD);
the \`…Formatted\` fields give the same amount in whole units ("5.00").

Errors: every error has \`extensions.code\`: UNAUTHENTICATED, FORBIDDEN, BAD_USER_INPUT, NOT_FOUND,
INSUFFICIENT_FUNDS, IDEMPOTENCY_CONFLICT (the key was used for another send), CHAIN_UNAVAILABLE (retry),
RATE_LIMITED (send, prepareSend and sendSigned count against the API key's writes per minute; the message says
when to retry), GRAPHQL_PARSE_FAILED, GRAPHQL_VALIDATION_FAILED, BAD_REQUEST or
INTERNAL (a generic message; \`extensions.requestId\` finds it in the server's logs).
"""
schema {
  query: Query
  mutation: Mutation
  subscription: Subscription
}

"""What can be read."""
type Query {
  """The user the API key speaks for (FORBIDDEN for an admin key: use \`user\`)."""
  me: User!
  """A user by id: the key's own user, or any user with an admin key."""
  user(
    """The user's id."""
    id: ID!
  ): User!
  """The key's user's account on a chain (an admin key names the user), or null when they have none there."""
  account(
    """The chain, as the engine names it: \`evm:<chain id>\` or \`sui:<network>\`."""
    chain: String!
    """The user (admin keys only; a user's key may name only itself)."""
    user: ID
  ): Account
  """An account's balance in a token: from the cache (no chain call), or read from the chain when critical."""
  balance(
    """The account's id."""
    account: ID!
    """The token's symbol; only cUSD for now."""
    token: String = "cUSD"
    """True: read the chain now (and update the cache), as a payment about to be made must; false: the cached amount."""
    critical: Boolean = false
  ): Balance!
  """An account's history (transfers, payments, escrow steps in which it sends or receives), newest first."""
  transactions(
    """The account's id."""
    account: ID!
    """How many records, 1 to 100."""
    first: Int = 20
    """The endCursor of the previous page; none: the newest records."""
    after: String
  ): TransactionConnection!
  """An account's sends not settled yet (their amounts are reserved on the balance), newest first."""
  pendingSends(
    """The account's id."""
    account: ID!
  ): [Send!]!
}

"""What can be done."""
type Mutation {
  """
  Sends cUSD from a custodial account (the platform holds its key). The amount is reserved against the balance as read
  from the chain, in the same commit as the send and its outbox intent; the send is then PENDING until the chain
  confirms or fails it. Repeating a call with the same idempotencyKey returns the same send.
  INSUFFICIENT_FUNDS when the chain balance less what is already reserved is below the amount.
  """
  send(
    """What to send, from where, to whom."""
    input: SendInput!
  ): Send!
  """
  What the user's device signs to send cUSD from an account whose key the user holds (custody USER); nothing is
  reserved yet (sendSigned does). On EVM: the call to sign (the cUSD contract, the encoded transfer) with suggestions
  for nonce, gas limit and EIP-1559 fees; the user pays the gas in the chain's coin. On Sui: the whole transaction
  (the user's cUSD coins split and transferred), its gas paid by the platform (sponsored: the user needs no SUI);
  the device signs exactly these bytes and submits them with sendSigned before expiresAt.
  INSUFFICIENT_FUNDS when the chain balance less what is reserved is below the amount; BAD_USER_INPUT for a
  custodial account (use send), a bad address or amount; CHAIN_UNAVAILABLE when the chain cannot be read, or no
  platform gas coin is free to sponsor it now (retry).
  """
  prepareSend(
    """What to send, from where, to whom."""
    input: PrepareSendInput!
  ): PreparedSend!
  """
  Sends a cUSD transfer the user signed on their device (custody USER): the transfer is read from the bytes, its
  amount reserved against the balance as read from the chain, and the bytes stored and broadcast exactly once;
  the send is PENDING until the chain confirms or fails it (failed too when the user spends the same nonce, or on
  Sui the same coin, in another transaction: the reservation is then released). The same idempotencyKey with the
  same bytes returns the same send; with other bytes, IDEMPOTENCY_CONFLICT.
  BAD_USER_INPUT when the bytes do not decode, are not a single cUSD transfer on the account's chain, or are not
  signed by the account's address; INSUFFICIENT_FUNDS as for send.
  """
  sendSigned(
    """The signed transaction and the account it is from."""
    input: SendSignedInput!
  ): Send!
}

"""Pushed over WebSocket (graphql-transport-ws or graphql-ws subprotocol, at /graphql)."""
type Subscription {
  """
  Each record whose recipient is one of the key's user's accounts, as soon as the poller has it (the block that holds
  it, not yet final). Missed while disconnected: read \`transactions\` again after reconnecting.
  """
  paymentReceived(
    """Only this account's (required with an admin key); none: every account of the key's user."""
    account: ID
  ): ReceivedPayment!
}

"""A Confío user."""
type User {
  """Its id (payment_users.id)."""
  id: ID!
  """The app's own reference of the user (a phone number's hash, a Firebase uid)."""
  externalRef: String!
  """The name shown to others, if any."""
  displayName: String
  """The language of the user's notifications (BCP 47, e.g. es)."""
  locale: String!
  """The user's accounts, one per chain."""
  accounts: [Account!]!
  """The user's account on a chain, or null."""
  account(
    """The chain, as the engine names it: \`evm:<chain id>\` or \`sui:<network>\`."""
    chain: String!
  ): Account
}

"""A user's address on one chain."""
type Account {
  """Its id (payment_accounts.id): what balance, transactions, send and paymentReceived take."""
  id: ID!
  """The user it belongs to."""
  userId: ID!
  """The chain: \`evm:<chain id>\` or \`sui:<network>\`."""
  chain: String!
  """The address, as the chain's family compares it: lower-case 0x hex on EVM, the 64-hex long form on Sui."""
  address: String!
  """False: no longer followed by the poller."""
  active: Boolean!
  """Who signs its transactions."""
  custody: Custody!
  """Its balance in a token (as Query.balance)."""
  balance(
    """The token's symbol; only cUSD for now."""
    token: String = "cUSD"
    """True: read the chain now; false: the cached amount."""
    critical: Boolean = false
  ): Balance!
  """Its history, newest first (as Query.transactions)."""
  transactions(
    """How many records, 1 to 100."""
    first: Int = 20
    """The endCursor of the previous page."""
    after: String
  ): TransactionConnection!
  """Its sends not settled yet, newest first."""
  pendingSends: [Send!]!
}

"""Who holds an account's key."""
enum Custody {
  """The platform (one of its signers): sends go through the API."""
  CUSTODIAL
  """The user, on their device: they sign their own transactions."""
  USER
}

"""An account's balance in one token."""
type Balance {
  """The account's id."""
  account: ID!
  """The token's symbol."""
  token: String!
  """The amount on chain at \`height\`, base units."""
  amount: String!
  """The amount on chain in whole units ("5.00")."""
  amountFormatted: String!
  """Reserved by this account's sends not settled yet, base units."""
  pendingOut: String!
  """Promised by our other accounts' sends to this one, not settled yet, base units."""
  pendingIn: String!
  """What can be sent now: amount less pendingOut, base units."""
  available: String!
  """What can be sent now, in whole units."""
  availableFormatted: String!
  """The block or checkpoint the amount was read at; null: never read from the chain."""
  height: String
  """When the amount was read from the chain (ISO 8601); null: never."""
  lastSynced: String
  """True: something touched the account since the amount was read (a refresh is due)."""
  stale: Boolean!
  """Where this answer came from."""
  source: BalanceSource!
}

"""Where a balance was read."""
enum BalanceSource {
  """The cached row: no chain call was made."""
  CACHE
  """The chain, just now (and the cache updated)."""
  CHAIN
}

"""A page of an account's history (Relay connection)."""
type TransactionConnection {
  """The records of this page, newest first."""
  edges: [TransactionEdge!]!
  """Where this page stands."""
  pageInfo: PageInfo!
}

"""A record and its place in the history."""
type TransactionEdge {
  """Opaque: give it as \`after\` to read the records older than this one."""
  cursor: String!
  """The record."""
  node: Transaction!
}

"""Relay's page information (forward pagination only)."""
type PageInfo {
  """True: older records follow; ask again with after: endCursor."""
  hasNextPage: Boolean!
  """Always false: the history is read forward from the newest record."""
  hasPreviousPage: Boolean!
  """The cursor of the first edge, or null on an empty page."""
  startCursor: String
  """The cursor of the last edge, or null on an empty page."""
  endCursor: String
}

"""One movement the poller recorded: a transfer, a payment, or a step of a P2P escrow."""
type Transaction {
  """Unique: chain, transaction, event index and kind."""
  id: ID!
  """The chain it happened on."""
  chain: String!
  """The chain's transaction id (an EVM transaction hash, a Sui digest)."""
  transactionId: String!
  """The position in its block of the event it comes from."""
  eventIndex: Int!
  """What happened."""
  kind: TransactionKind!
  """Whether the account this history is of sent it, received it, or both (a transfer to itself)."""
  direction: Direction!
  """The token's symbol."""
  token: String!
  """The amount, base units."""
  amount: String!
  """The amount in whole units; null for a token whose decimals the app does not know."""
  amountFormatted: String
  """The fee taken (Pay's fee on payments), base units."""
  fee: String!
  """The sending address, if the event names one."""
  sender: String
  """The receiving address, if the event names one."""
  recipient: String
  """Pay: the payment's reference; P2P: the trade id."""
  reference: String
  """Whether it took effect."""
  status: TransactionStatus!
  """The block (or checkpoint) number that holds it."""
  blockNumber: String!
  """The block's time (ISO 8601)."""
  timestamp: String!
}

"""What a record is."""
enum TransactionKind {
  """A cUSD transfer."""
  TRANSFER
  """A payment to a merchant through Pay."""
  PAYMENT
  """cUSD locked in a P2P trade's escrow."""
  ESCROW_CREATED
  """The buyer marked a P2P trade paid."""
  ESCROW_PAID
  """A P2P trade's escrow released to the buyer."""
  ESCROW_RELEASED
  """A P2P trade's escrow returned to the seller."""
  ESCROW_CANCELLED
  """A P2P trade disputed."""
  ESCROW_DISPUTED
  """A P2P trade's dispute resolved."""
  ESCROW_RESOLVED
}

"""How a record relates to the account whose history it is in."""
enum Direction {
  """The account sent it."""
  SENT
  """The account received it."""
  RECEIVED
  """Both: from the account to itself."""
  SELF
}

"""Whether a record took effect."""
enum TransactionStatus {
  """It did."""
  CONFIRMED
  """It did not (the call failed on chain)."""
  FAILED
}

"""What a send needs. Give the amount once: in base units (amount) or in whole units (amountFormatted)."""
input SendInput {
  """The custodial account to send from (its id)."""
  account: ID!
  """The recipient's address on the account's chain."""
  to: String!
  """The amount in base units, an integer as a decimal string ("5000000" is 5.00 cUSD)."""
  amount: String
  """The amount in whole units, at most 6 decimals ("5", "5.25"); instead of amount."""
  amountFormatted: String
  """The caller's key for this send (1 to 200 characters): a retry with the same key returns the same send."""
  idempotencyKey: String!
}

"""What a device needs to sign a send. Give the amount once: in base units (amount) or in whole units (amountFormatted)."""
input PrepareSendInput {
  """The account to send from (its id; custody USER)."""
  account: ID!
  """The recipient's address on the account's chain."""
  to: String!
  """The amount in base units, an integer as a decimal string ("5000000" is 5.00 cUSD)."""
  amount: String
  """The amount in whole units, at most 6 decimals ("5", "5.25"); instead of amount."""
  amountFormatted: String
}

"""A transaction to sign for a send: \`evm\` on an EVM chain, \`sui\` on Sui (the other is null)."""
type PreparedSend {
  """The account it is sent from."""
  account: ID!
  """The account's chain."""
  chain: String!
  """The recipient's address, as given."""
  to: String!
  """The amount, base units."""
  amount: String!
  """The amount in whole units."""
  amountFormatted: String
  """On EVM: the fields of the EIP-1559 transaction to sign (serialized and signed, it is sendSigned's transaction)."""
  evm: EvmTransactionRequest
  """On Sui: the sponsored TransactionData to sign."""
  sui: SponsoredSuiTransaction
}

"""An EIP-1559 transaction for the device to sign: \`to\`, \`data\`, \`value\` and \`chainId\` are the send; the rest are suggestions the device may change."""
type EvmTransactionRequest {
  """Always eip1559 (legacy and EIP-2930 transactions are taken too)."""
  type: String!
  """The chain id to sign for (EIP-155)."""
  chainId: Int!
  """The cUSD contract: the transaction's recipient."""
  to: String!
  """The calldata: cUSD transfer(recipient, amount), 0x-hex."""
  data: String!
  """Always "0": a cUSD transfer carries no ether."""
  value: String!
  """Suggested: the account's next nonce not used on chain (pending block) nor by a transaction of theirs the platform holds."""
  nonce: Int!
  """Suggested gas limit: the node's estimate plus 20% (100000 when it cannot estimate)."""
  gas: String!
  """Suggested maxFeePerGas, wei."""
  maxFeePerGas: String!
  """Suggested maxPriorityFeePerGas, wei."""
  maxPriorityFeePerGas: String!
}

"""A Sui transaction whose gas the platform pays: sign \`transaction\` with the account's key and submit both with sendSigned."""
type SponsoredSuiTransaction {
  """The TransactionData, base64 BCS: exactly the bytes to sign (Sui's intent message over them)."""
  transaction: String!
  """Its digest: the transaction id the send will carry."""
  digest: String!
  """The platform address paying the gas."""
  sponsor: String!
  """The most gas it may use, MIST (paid by the sponsor)."""
  gasBudget: String!
  """When the platform's gas coin stops being held for it (ISO 8601): submitted later, it is refused; prepare again."""
  expiresAt: String!
}

"""A transaction the user signed, to send."""
input SendSignedInput {
  """The account it is sent from (its id): the transaction's sender."""
  account: ID!
  """EVM: the serialized signed transaction, 0x-hex. Sui: the TransactionData, base64 BCS (from prepareSend, or built by the device with its own gas)."""
  transaction: String!
  """Sui: the sender's signature over the transaction, base64 (Sui's serialized form), and only it. EVM: none (the transaction carries it)."""
  signatures: [String!]
  """The caller's key for this send (1 to 160 characters): a retry with the same key and bytes returns the same send."""
  idempotencyKey: String!
}

"""A send asked for through the API."""
type Send {
  """Its id."""
  id: ID!
  """The account it is sent from."""
  account: ID!
  """Where it stands."""
  state: SendState!
  """Who signed it: the platform for a custodial account, or the user on their device."""
  mode: SendMode!
  """The token's symbol."""
  token: String!
  """The recipient's address."""
  to: String!
  """The amount, base units."""
  amount: String!
  """The amount in whole units."""
  amountFormatted: String
  """The outbox intent that carries it to the chain."""
  intentId: ID!
  """The idempotency key it was asked with."""
  idempotencyKey: String!
  """The chain's transaction id, once there is one."""
  transactionId: String
  """Why it failed, if it did."""
  error: String
  """When it was asked for (ISO 8601)."""
  createdAt: String!
  """When the chain confirmed or failed it (ISO 8601); null while pending."""
  settledAt: String
}

"""Who signed a send."""
enum SendMode {
  """The platform, with the custodial account's key (the send mutation)."""
  CUSTODIAL
  """The user, on their device (prepareSend, then sendSigned); the platform submitted the bytes as they are."""
  USER_SIGNED
}

"""Where a send stands."""
enum SendState {
  """Submitted; its amount is reserved on the balance."""
  PENDING
  """Confirmed on chain."""
  CONFIRMED
  """Failed; its reservation is released."""
  FAILED
}

"""A record whose recipient is one of the user's accounts, as the poller recorded it."""
type ReceivedPayment {
  """The receiving account (ours)."""
  account: ID!
  """The chain."""
  chain: String!
  """The chain's transaction id."""
  transactionId: String!
  """The position in its block of the event it comes from."""
  eventIndex: Int!
  """What happened."""
  kind: TransactionKind!
  """The token's symbol."""
  token: String!
  """The amount, base units."""
  amount: String!
  """The amount in whole units; null for an unknown token."""
  amountFormatted: String
  """The sending address, if any."""
  sender: String
  """Pay: the payment's reference; P2P: the trade id."""
  reference: String
  """The block (or checkpoint) number that holds it."""
  blockNumber: String!
}
`;
