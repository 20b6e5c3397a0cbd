/**
 * Read-aloud (朗读) with the Web Speech API (speechSynthesis): the device's own voices, nothing is
 * sent anywhere. Text is spoken as segments, each in its own language (a Tibetan page still shows
 * item names in Chinese: those are read by a Chinese voice when the device has one), and cut into
 * sentences (some engines stop long utterances after ~15 s).
 *
 * Where there is no voice for the language — speechSynthesis missing, or getVoices() has none for
 * it (headless Chromium has none; most phones have no Tibetan or Uyghur voice) — {@link readAloud}
 * reports why instead of staying silent.
 */
import { reactive, watch } from 'vue';

/** A piece of text and the language it is written in (BCP 47). */
export interface SpeechSegment {
  text: string;
  lang: string;
}

export const RATES = { slow: 0.75, normal: 1, fast: 1.25 } as const;
export type Rate = keyof typeof RATES;

export interface SpeechPreferences {
  /** chosen voice per UI language (voiceURI); absent: the best match */
  voices: Record<string, string>;
  rate: Rate;
}

const STORAGE_KEY = 'tongban.speech';

function load(): SpeechPreferences {
  try {
    const v = JSON.parse(localStorage.getItem(STORAGE_KEY) ?? 'null') as Partial<SpeechPreferences> | null;
    if (v)
      return {
        voices: typeof v.voices === 'object' && v.voices !== null ? v.voices : {},
        rate: v.rate && v.rate in RATES ? v.rate : 'normal',
      };
  } catch {
    // storage disabled or corrupt
  }
  return { voices: {}, rate: 'normal' };
}

export const speechPrefs = reactive<SpeechPreferences>(load());
watch(speechPrefs, (p) => {
  try {
    localStorage.setItem(STORAGE_KEY, JSON.stringify(p));
  } catch {
    // lasts for this visit only
  }
});

/** Whether this browser has speech synthesis at all. */
export function speechSupported(): boolean {
  return typeof window !== 'undefined' && 'speechSynthesis' in window && 'SpeechSynthesisUtterance' in window;
}

/**
 * The device's voices. Some browsers fill the list only after `voiceschanged`: waits for it up to
 * `waitMs` (ms) when the list is empty at first. Empty when there are none or no speech synthesis.
 */
export async function allVoices(waitMs = 1500): Promise<SpeechSynthesisVoice[]> {
  if (!speechSupported()) return [];
  const synth = window.speechSynthesis;
  const now = synth.getVoices();
  if (now.length > 0) return now;
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      synth.removeEventListener('voiceschanged', done);
      resolve(synth.getVoices());
    };
    const timer = setTimeout(done, waitMs);
    synth.addEventListener('voiceschanged', done);
  });
}

const primary = (tag: string) => tag.replace('_', '-').split('-')[0]?.toLowerCase() ?? '';

/**
 * The voices that speak `lang`, best first: same full tag (zh-CN), then same language (zh-TW, zh-HK).
 * Chinese also matches voices tagged cmn.
 */
export function voicesFor(voices: readonly SpeechSynthesisVoice[], lang: string): SpeechSynthesisVoice[] {
  const want = primary(lang);
  const same = (v: SpeechSynthesisVoice) => {
    const p = primary(v.lang);
    return p === want || (want === 'zh' && p === 'cmn');
  };
  const exact = (v: SpeechSynthesisVoice) => v.lang.replace('_', '-').toLowerCase() === lang.toLowerCase();
  return voices.filter(same).sort((a, b) => Number(exact(b)) - Number(exact(a)));
}

/** The voice to use for `lang`: the one chosen in settings when still present, else the best match. */
export function voiceFor(voices: readonly SpeechSynthesisVoice[], lang: string): SpeechSynthesisVoice | null {
  const list = voicesFor(voices, lang);
  const chosen = speechPrefs.voices[lang];
  return list.find((v) => v.voiceURI === chosen) ?? list[0] ?? null;
}

/** Splits text into sentences of at most `max` characters (Chinese, Tibetan, Arabic-script and Latin stops). */
export function sentences(text: string, max = 180): string[] {
  const parts = text
    .split(/(?<=[。！？；!?;།؟\n]|[.،؛](?=\s))/u)
    .map((s) => s.trim())
    .filter((s) => s !== '');
  const out: string[] = [];
  for (const p of parts) {
    for (let i = 0; i < p.length; i += max) out.push(p.slice(i, i + max));
  }
  return out;
}

/** Why reading aloud cannot start: no speech synthesis in this browser, or no voice for the language. */
export type SpeechProblem = 'no-speech' | 'no-voice';

export type ReaderState = 'idle' | 'speaking' | 'paused';

/** The one reader of the page: its state drives the 朗读 / 暂停 / 继续 / 停止 buttons. */
export const reader = reactive<{ state: ReaderState; error: boolean }>({ state: 'idle', error: false });

let generation = 0;

/**
 * Reads `segments` aloud in `uiLang`'s voice (segments in another language use a voice of theirs when
 * the device has one). Resolves to null once speaking has started, or to the problem that prevents it
 * (nothing is spoken then). Stops whatever was being read.
 */
export async function readAloud(
  segments: readonly SpeechSegment[],
  uiLang: string,
): Promise<SpeechProblem | null> {
  stopReading();
  if (!speechSupported()) return 'no-speech';
  const voices = await allVoices();
  const main = voiceFor(voices, uiLang);
  if (!main) return 'no-voice';
  const synth = window.speechSynthesis;
  const mine = ++generation;
  const rate = RATES[speechPrefs.rate];
  const utterances = segments.flatMap((seg) => {
    const voice = primary(seg.lang) === primary(uiLang) ? main : (voiceFor(voices, seg.lang) ?? main);
    return sentences(seg.text).map((text) => {
      const u = new SpeechSynthesisUtterance(text);
      u.voice = voice;
      u.lang = voice.lang;
      u.rate = rate;
      return u;
    });
  });
  const last = utterances.at(-1);
  if (!last) return null;
  reader.error = false;
  reader.state = 'speaking';
  last.addEventListener('end', () => {
    if (mine === generation) reader.state = 'idle';
  });
  for (const u of utterances) {
    u.addEventListener('error', (e) => {
      if (mine !== generation || e.error === 'interrupted' || e.error === 'canceled') return;
      reader.error = true;
      reader.state = 'idle';
      synth.cancel();
    });
    synth.speak(u);
  }
  return null;
}

export function pauseReading(): void {
  if (!speechSupported() || reader.state !== 'speaking') return;
  window.speechSynthesis.pause();
  reader.state = 'paused';
}

export function resumeReading(): void {
  if (!speechSupported() || reader.state !== 'paused') return;
  window.speechSynthesis.resume();
  reader.state = 'speaking';
}

/** Stops reading (also when leaving the page). */
export function stopReading(): void {
  generation++;
  if (speechSupported()) window.speechSynthesis.cancel();
  reader.state = 'idle';
}
