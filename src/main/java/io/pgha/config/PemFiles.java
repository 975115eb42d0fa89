package io.pgha.config;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.crypto.Cipher;
import javax.crypto.EncryptedPrivateKeyInfo;
import javax.crypto.SecretKeyFactory;
import javax.crypto.spec.PBEKeySpec;

/**
 * PEM certificates and private keys as Patroni's {@code zookeeper.cacert}, {@code cert} and {@code key} name them
 * (what Python's {@code ssl} module reads): certificates, and keys in PKCS#8 ({@code PRIVATE KEY}, or
 * {@code ENCRYPTED PRIVATE KEY} with {@code key_password}), PKCS#1 ({@code RSA PRIVATE KEY}) or SEC1
 * ({@code EC PRIVATE KEY}). Every failure is a {@link ConfigException} naming the key and the file.
 */
public final class PemFiles {
  private static final Pattern BLOCK = Pattern.compile(
      "-----BEGIN ([A-Z0-9 ]+)-----\\s*(.*?)-----END \\1-----", Pattern.DOTALL);
  /** rsaEncryption 1.2.840.113549.1.1.1 with NULL parameters, as PKCS#8 names an RSA key. */
  private static final byte[] RSA_ALGORITHM = hex("300d06092a864886f70d0101010500");
  /** id-ecPublicKey 1.2.840.10045.2.1. */
  private static final byte[] EC_PUBLIC_KEY_OID = hex("06072a8648ce3d0201");

  private PemFiles() {}

  /** The certificates in {@code file}, at least one. */
  public static List<X509Certificate> certificates(String key, Path file) throws ConfigException {
    String text = read(key, file);
    List<X509Certificate> certs = new ArrayList<>();
    Matcher m = BLOCK.matcher(text);
    try {
      CertificateFactory factory = CertificateFactory.getInstance("X.509");
      while (m.find()) {
        if (!m.group(1).endsWith("CERTIFICATE")) continue;
        certs.add((X509Certificate) factory.generateCertificate(new ByteArrayInputStream(decode(key, file, m))));
      }
    } catch (CertificateException e) {
      throw new ConfigException(key + ": " + file + ": not a valid certificate: " + e.getMessage());
    }
    if (certs.isEmpty()) throw new ConfigException(key + ": " + file + ": no PEM certificate in the file");
    return certs;
  }

  /** Whether {@code file} holds a PEM private key (a certificate file may carry its key, as Python allows). */
  public static boolean hasPrivateKey(Path file) {
    try {
      Matcher m = BLOCK.matcher(Files.readString(file, StandardCharsets.US_ASCII));
      while (m.find()) {
        if (m.group(1).endsWith("PRIVATE KEY")) return true;
      }
    } catch (IOException | RuntimeException e) {
      return false;
    }
    return false;
  }

  /** The private key in {@code file}, decrypted with {@code password} when it is an encrypted PKCS#8 key. */
  public static PrivateKey privateKey(String key, Path file, String password) throws ConfigException {
    String text = read(key, file);
    Matcher m = BLOCK.matcher(text);
    while (m.find()) {
      String type = m.group(1);
      if (!type.endsWith("PRIVATE KEY")) continue;
      if (m.group(2).contains("Proc-Type:")) {
        throw new ConfigException(key + ": " + file + ": legacy OpenSSL-encrypted key, not supported: convert it with"
            + " 'openssl pkcs8 -topk8 -in KEY -out NEW' (then key_password is the new key's password)");
      }
      byte[] der = decode(key, file, m);
      return switch (type) {
        case "PRIVATE KEY" -> pkcs8(key, file, der);
        case "ENCRYPTED PRIVATE KEY" -> pkcs8(key, file, decrypt(key, file, der, password));
        case "RSA PRIVATE KEY" -> pkcs8(key, file, wrap(RSA_ALGORITHM, der));
        case "EC PRIVATE KEY" -> pkcs8(key, file, wrap(ecAlgorithm(key, file, der), der));
        default -> throw new ConfigException(key + ": " + file + ": unsupported key type '" + type + "'");
      };
    }
    throw new ConfigException(key + ": " + file + ": no PEM private key in the file");
  }

  /** Fails unless {@code privateKey} belongs to {@code certificate}: what one signs, the other verifies. */
  public static void checkPair(String key, Path keyFile, PrivateKey privateKey, X509Certificate certificate)
      throws ConfigException {
    String algorithm = privateKey.getAlgorithm().equals("EC") ? "SHA256withECDSA" : "SHA256with"
        + privateKey.getAlgorithm();
    try {
      byte[] probe = "pgha key check".getBytes(StandardCharsets.US_ASCII);
      Signature sign = Signature.getInstance(algorithm);
      sign.initSign(privateKey);
      sign.update(probe);
      byte[] signature = sign.sign();
      Signature verify = Signature.getInstance(algorithm);
      verify.initVerify(certificate.getPublicKey());
      verify.update(probe);
      if (verify.verify(signature)) return;
    } catch (GeneralSecurityException e) {
      // a key of another type than the certificate's also lands here
    }
    throw new ConfigException(key + ": " + keyFile + ": does not match the certificate "
        + certificate.getSubjectX500Principal().getName());
  }

  private static String read(String key, Path file) throws ConfigException {
    try {
      return Files.readString(file, StandardCharsets.US_ASCII);
    } catch (NoSuchFileException e) {
      throw new ConfigException(key + ": " + file + ": no such file");
    } catch (AccessDeniedException e) {
      throw new ConfigException(key + ": " + file + ": permission denied");
    } catch (IOException e) {
      throw new ConfigException(key + ": " + file + ": cannot read: " + e.getMessage());
    }
  }

  private static byte[] decode(String key, Path file, Matcher m) throws ConfigException {
    try {
      return Base64.getMimeDecoder().decode(m.group(2).trim());
    } catch (IllegalArgumentException e) {
      throw new ConfigException(key + ": " + file + ": bad base64 in the " + m.group(1) + " block");
    }
  }

  private static PrivateKey pkcs8(String key, Path file, byte[] der) throws ConfigException {
    for (String algorithm : List.of("RSA", "EC", "Ed25519", "DSA")) {
      try {
        return KeyFactory.getInstance(algorithm).generatePrivate(new PKCS8EncodedKeySpec(der));
      } catch (GeneralSecurityException e) {
        // try the next algorithm
      }
    }
    throw new ConfigException(key + ": " + file + ": not an RSA, EC, Ed25519 or DSA private key");
  }

  private static byte[] decrypt(String key, Path file, byte[] der, String password) throws ConfigException {
    if (password == null || password.isEmpty()) {
      throw new ConfigException(key + ": " + file + ": the key is encrypted and zookeeper.key_password is not set");
    }
    try {
      EncryptedPrivateKeyInfo info = new EncryptedPrivateKeyInfo(der);
      String algorithm = info.getAlgParameters() != null ? info.getAlgParameters().toString() : info.getAlgName();
      SecretKeyFactory factory = SecretKeyFactory.getInstance(algorithm);
      Cipher cipher = Cipher.getInstance(algorithm);
      cipher.init(Cipher.DECRYPT_MODE, factory.generateSecret(new PBEKeySpec(password.toCharArray())),
          info.getAlgParameters());
      return info.getKeySpec(cipher).getEncoded();
    } catch (GeneralSecurityException | IOException e) {
      throw new ConfigException("zookeeper.key_password: cannot decrypt " + file + " (wrong password?)");
    }
  }

  /** The PKCS#8 algorithm identifier of a SEC1 key: id-ecPublicKey with the curve named in the key's [0] field. */
  private static byte[] ecAlgorithm(String key, Path file, byte[] sec1) throws ConfigException {
    // ECPrivateKey ::= SEQUENCE { version INTEGER, privateKey OCTET STRING, [0] parameters, [1] publicKey }
    int[] seq = header(sec1, 0);
    int at = seq[0];
    int end = seq[0] + seq[1];
    while (at < end) {
      int tag = sec1[at] & 0xff;
      int[] h = header(sec1, at);
      if (tag == 0xa0) {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        body.writeBytes(EC_PUBLIC_KEY_OID);
        body.write(sec1, h[0], h[1]);
        return tlv(0x30, body.toByteArray());
      }
      at = h[0] + h[1];
    }
    throw new ConfigException(key + ": " + file + ": the EC key does not name its curve; convert it with"
        + " 'openssl pkcs8 -topk8 -nocrypt -in KEY -out NEW'");
  }

  /** {@code {start of contents, length}} of the DER element at {@code at}. */
  private static int[] header(byte[] der, int at) {
    int first = der[at + 1] & 0xff;
    if (first < 0x80) return new int[] {at + 2, first};
    int count = first & 0x7f;
    int length = 0;
    for (int i = 0; i < count; i++) length = (length << 8) | (der[at + 2 + i] & 0xff);
    return new int[] {at + 2 + count, length};
  }

  /** PKCS#8 PrivateKeyInfo ::= SEQUENCE { version 0, algorithm, privateKey OCTET STRING }. */
  private static byte[] wrap(byte[] algorithm, byte[] key) {
    ByteArrayOutputStream body = new ByteArrayOutputStream();
    body.writeBytes(new byte[] {0x02, 0x01, 0x00});
    body.writeBytes(algorithm);
    body.writeBytes(tlv(0x04, key));
    return tlv(0x30, body.toByteArray());
  }

  private static byte[] tlv(int tag, byte[] contents) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.write(tag);
    int n = contents.length;
    if (n < 0x80) {
      out.write(n);
    } else if (n < 0x100) {
      out.write(0x81);
      out.write(n);
    } else if (n < 0x10000) {
      out.write(0x82);
      out.write(n >> 8);
      out.write(n & 0xff);
    } else {
      out.write(0x83);
      out.write(n >> 16);
      out.write((n >> 8) & 0xff);
      out.write(n & 0xff);
    }
    out.writeBytes(contents);
    return out.toByteArray();
  }

  private static byte[] hex(String text) {
    byte[] out = new byte[text.length() / 2];
    for (int i = 0; i < out.length; i++) out[i] = (byte) Integer.parseInt(text.substring(2 * i, 2 * i + 2), 16);
    return out;
  }
}
