// Texts that exercise a tokenizer's corners, shared by lecture 08's notebook and the tests that
// compare GPT4Tokenizer with js-tiktoken's cl100k_base.

export const TOKENIZER_SAMPLES: Record<string, string> = {
  "empty": "",
  "one character": "?",
  "English": "Tokenization is at the heart of much weirdness of LLMs. Do not brush it off.",
  "contractions, any case": "I'm sure you'll see we'd've done it. DON'T SHOUT, It'S FiNe, they'Re here.",
  "code": "def fizzbuzz(n: int) -> str:\n    if n % 15 == 0:\n        return \"FizzBuzz\"\n    return str(n)\n\nfor (let i = 0; i < 10; i++) { console.log(i ** 2); }\n",
  "emoji": "hello world!!!? (안녕하세요!) lol123 😉 👋🏽 👩‍👩‍👧 🇩🇪",
  "Korean": "안녕하세요, 저는 언어 모델입니다. 토큰화는 중요합니다.",
  "other scripts": "日本語のテキスト、Ελληνικά, русский текст, العربية, हिन्दी, ไทย",
  "numbers": "127 + 677 = 804; 1275 * 6773 = 8634575; 3.14159265358979; 1,000,000; 0.000001; 2024-01-31",
  "whitespace runs": "a  b   c    d\t\te\n\n\nf   \n  g\r\n\r\nh          i \u00a0j\u3000k   ",
  "trailing space": "Here is a tag line for an ice cream shop ",
  "symbols": "<<<>>> ==== !== ... --- ### @@@ $$$ %%% ^^^ &&& *** ((())) [[[]]] {{{}}} ||| \\\\\\ /// ~~~",
  "SolidGoldMagikarp": " SolidGoldMagikarp, davidjl, RandomRedditorWithNo, StreamerBot",
  "special tokens": "<|endoftext|>Hello world<|endoftext|><|fim_prefix|>And this one has<|fim_suffix|> tokens.<|fim_middle|> FIM<|endofprompt|>",
};
