// The token visualiser of lecture 08: text drawn as coloured spans, one per token (as the
// Tiktokenizer web app does), for any tokenizer that can give each token's bytes.
import { escapeHtml, showHtml } from "./display";

/** What the visualiser needs from a tokenizer. */
export interface TokenBytesSource {
  tokenBytes(id: number): Uint8Array;
}

const COLOURS = ["#c6e2ff", "#ffd8a8", "#c3f0c8", "#f8c6e0", "#fff3a8", "#d9c8ff", "#b8f0ec", "#ffc9c2"];

/**
 * The text of each token. A character whose UTF-8 bytes are split over tokens is shown in the
 * token where it ends; a token holding only part of a character shows its bytes in hex.
 */
export function tokenPieces(source: TokenBytesSource, ids: readonly number[]): { text: string; bytes: Uint8Array }[] {
  const decoder = new TextDecoder("utf-8");
  return ids.map((id, i) => {
    const bytes = source.tokenBytes(id);
    return { text: decoder.decode(bytes, { stream: i < ids.length - 1 }), bytes };
  });
}

/** HTML for the tokens: coloured spans, whitespace made visible, each token's id on hover. */
export function tokenSpansHtml(source: TokenBytesSource, ids: readonly number[], title?: string): string {
  const spans = tokenPieces(source, ids).map(({ text, bytes }, i) => {
    const hex = [...bytes].map((b) => b.toString(16).padStart(2, "0")).join(" ");
    const shown = text === ""
      ? `<small style="color:#666">${hex}</small>`
      : escapeHtml(text).replace(/ /g, "&#183;").replace(/\t/g, "&#8594;\t").replace(/\r/g, "&#8629;").replace(/\n/g, "&#8626;\n");
    return `<span title="token ${ids[i]} (bytes ${hex})" style="background:${COLOURS[i % COLOURS.length]};border-radius:2px">${shown}</span>`;
  });
  const heading = `<div style="font:12px sans-serif;color:#444;margin:4px 0">${title ? escapeHtml(title) + ": " : ""}${ids.length} tokens</div>`;
  return `<div class="zth-tokens">${heading}<pre style="white-space:pre-wrap;font-size:13px;line-height:1.6;margin:0">${spans.join("")}</pre></div>`;
}

/** Shows how a tokenizer cuts `text` (outside a notebook: the pieces joined by "|"); returns the ids. */
export function showTokens(tokenizer: TokenBytesSource & { encode(text: string): number[] }, text: string, title?: string): number[] {
  return showTokenIds(tokenizer, tokenizer.encode(text), title);
}

/** Shows given token ids as coloured spans (e.g. an encoding with special tokens allowed). */
export function showTokenIds(tokenizer: TokenBytesSource, ids: number[], title?: string): number[] {
  const fallback = `${title ? title + ": " : ""}${ids.length} tokens: ${tokenPieces(tokenizer, ids).map((piece) => piece.text).join("|")}`;
  showHtml(tokenSpansHtml(tokenizer, ids, title), fallback);
  return ids;
}
