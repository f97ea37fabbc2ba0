/** Every named input schema: what the build compiles into standalone validators (scripts/compile-schemas.js). */
import type { JsonSchema } from './fields';
import { AuctionBidInput, AuctionRequestInput, AuctionRevealInput, FlowProofInput, MarketParametersInput, MintInput, OfferInput, PacketsInput, ReadingBatchInput, ReadingInput, ReadingItem } from './market';
import { GovernanceParametersInput, JoinInput, VoteInput } from './governance';

export const INPUT_SCHEMAS = {
  OfferInput,
  AuctionRequestInput,
  AuctionBidInput,
  AuctionRevealInput,
  MintInput,
  PacketsInput,
  FlowProofInput,
  ReadingInput,
  ReadingItem,
  ReadingBatchInput,
  VoteInput,
  JoinInput,
  GovernanceParametersInput,
  MarketParametersInput,
} satisfies Record<string, JsonSchema>;

export type InputSchemaName = keyof typeof INPUT_SCHEMAS;
