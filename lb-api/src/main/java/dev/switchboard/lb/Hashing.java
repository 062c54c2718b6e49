package dev.switchboard.lb;

/** 64-bit hashing for routing keys and hash rings. Thread-safe (stateless). */
final class Hashing {
  private Hashing() {}

  /** A well-mixed 64-bit hash of {@code key} (FNV-1a over UTF-16 units, then a mix64 finaliser). */
  static long hash64(CharSequence key) {
    long h = 0xcbf29ce484222325L;
    for (int i = 0; i < key.length(); i++) {
      h ^= key.charAt(i);
      h *= 0x100000001b3L;
    }
    return mix64(h);
  }

  /** The murmur3 64-bit finaliser: spreads every input bit over the whole output. */
  static long mix64(long z) {
    z = (z ^ (z >>> 33)) * 0xff51afd7ed558ccdL;
    z = (z ^ (z >>> 33)) * 0xc4ceb9fe1a85ec53L;
    return z ^ (z >>> 33);
  }
}
