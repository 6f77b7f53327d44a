"""Makes the real-world and hostile corpus for tests/corpus_check.ts, and Pillow's pixels of it.

Not a unit test: it needs ../shared/datasets/photos (or --photos), Pillow 9 with ImageCms,
libjpeg-turbo's cjpeg/djpeg and ImageMagick's convert. From N photos it writes, per photo,
variants of the faults real files have (see VARIANTS), then decodes every file with Pillow
(libjpeg-turbo, zlib) and writes its RGB pixels (NAME.rgb) and a manifest.json: for each file
its kind, whether Pillow decoded it, its size, or Pillow's error. Pillow's pixels are what
libjpeg/libpng give: EXIF orientation applied (ImageOps.exif_transpose), a CMYK JPEG with a
CMYK profile converted through it by LittleCMS (ImageCms, perceptual, built-in sRGB), other
CMYK by Pillow's own formula, other profiles ignored unless sRGB-like (see --profiles).

    /usr/bin/python3 tests/corpus_check.py --photos ../shared/datasets/photos --count 40 --out DIR
"""

import argparse
import io
import json
import os
import random
import struct
import subprocess
import zlib

from PIL import Image, ImageCms, ImageOps

CMYK_PROFILE = "/usr/share/color/icc/ghostscript/default_cmyk.icc"
SRGB = ImageCms.createProfile("sRGB")


def chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def marker(data, m):
    """Offset of the first FF m in a JPEG."""
    return data.index(bytes([0xFF, m]), 2)


def cjpeg(ppm, *args):
    return subprocess.run(["cjpeg", *args], input=ppm, capture_output=True, check=True).stdout


def variants(photo, rnd, with_profile):
    """(name suffix, kind, bytes) of each variant of one photo."""
    jpeg = open(photo, "rb").read()
    im = Image.open(photo).convert("RGB")
    ppm = io.BytesIO()
    im.save(ppm, "PPM")
    ppm = ppm.getvalue()
    out = [("orig.jpg", "jpeg original", jpeg)]
    n = len(jpeg)
    out.append(("trunc.jpg", "jpeg truncated", jpeg[: rnd.randint(n // 3, n - 3)]))
    flipped = bytearray(jpeg)
    sos = marker(jpeg, 0xDA)
    for _ in range(rnd.randint(1, 6)):
        at = rnd.randint(sos + 14, n - 3)
        flipped[at] ^= 1 << rnd.randint(0, 7)
    out.append(("flip.jpg", "jpeg bit flips", bytes(flipped)))
    out.append(("arith.jpg", "jpeg arithmetic", cjpeg(ppm, "-arithmetic", "-quality", "90")))
    out.append(("prog.jpg", "jpeg progressive", cjpeg(ppm, "-progressive", "-quality", "90")))
    base = cjpeg(ppm, "-quality", "90")
    sof = marker(base, 0xC0)
    seg = base[sof : sof + 2 + ((base[sof + 2] << 8) | base[sof + 3])]
    out.append(("stray.jpg", "jpeg stray SOF after image", base[:-2] + seg + b"\xff\xd9"))
    garbage = bytearray(base)
    garbage[sof + 4] = rnd.choice([0, 7, 9, 159, 255])
    out.append(("prec.jpg", "jpeg garbage precision", bytes(garbage)))
    ycck = subprocess.run(["convert", "jpg:-", "-colorspace", "CMYK", "-quality", "90", "jpg:-"],
                          input=jpeg, capture_output=True, check=True).stdout
    out.append(("ycck.jpg", "jpeg CMYK/YCCK (ImageMagick)", ycck))
    damaged = bytearray(ycck)
    sos = marker(ycck, 0xDA)
    for _ in range(rnd.randint(1, 4)):
        damaged[rnd.randint(sos + 16, len(ycck) - 3)] ^= 1 << rnd.randint(0, 7)
    out.append(("ycckflip.jpg", "jpeg CMYK damaged", bytes(damaged)))
    if with_profile:
        icc = open(CMYK_PROFILE, "rb").read()
        cmyk = ImageCms.profileToProfile(im, SRGB, ImageCms.getOpenProfile(CMYK_PROFILE),
                                         outputMode="CMYK")
        b = io.BytesIO()
        cmyk.save(b, "JPEG", quality=90, icc_profile=icc)
        out.append(("cmykicc.jpg", "jpeg CMYK with CMYK profile", b.getvalue()))
    b = io.BytesIO()
    im.save(b, "PNG")
    png = b.getvalue()
    out.append(("orig.png", "png original", png))
    ihdr = 8 + 25
    out.append(("intent4.png", "png sRGB intent 4",
                png[:ihdr] + chunk(b"sRGB", bytes([4])) + png[ihdr:]))
    out.append(("physbad.png", "png malformed pHYs",
                png[:ihdr] + chunk(b"pHYs", b"\0\0\0") + png[ihdr:]))
    bad_crc = bytearray(png[:ihdr] + chunk(b"tEXt", b"Comment\0zpix") + png[ihdr:])
    bad_crc[ihdr + 8 + 12 + 1] ^= 0xFF  # last CRC byte of the tEXt chunk
    out.append(("textcrc.png", "png ancillary CRC", bytes(bad_crc)))
    out.append(("noiend.png", "png no IEND", png[:-12]))
    out.append(("trunc.png", "png truncated", png[: rnd.randint(40, len(png) - 13)]))
    return out


def pillow_pixels(path):
    im = Image.open(path)
    im.load()
    im = ImageOps.exif_transpose(im)
    icc = im.info.get("icc_profile")
    if im.mode == "CMYK" and icc:
        return ImageCms.profileToProfile(im, ImageCms.getOpenProfile(io.BytesIO(icc)), SRGB,
                                         outputMode="RGB")
    return im.convert("RGB")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--photos", default="../shared/datasets/photos")
    ap.add_argument("--count", type=int, default=40)
    ap.add_argument("--out", default="/tmp/zpix-corpus")
    ap.add_argument("--seed", type=int, default=14)
    args = ap.parse_args()
    rnd = random.Random(args.seed)
    os.makedirs(args.out, exist_ok=True)
    photos = sorted(f for f in os.listdir(args.photos) if f.lower().endswith(".jpg"))[: args.count]
    manifest = []
    for i, name in enumerate(photos):
        for suffix, kind, data in variants(os.path.join(args.photos, name), rnd, i % 4 == 0):
            file = f"{os.path.splitext(name)[0]}_{suffix}"
            path = os.path.join(args.out, file)
            with open(path, "wb") as f:
                f.write(data)
            entry = {"file": file, "kind": kind}
            try:
                rgb = pillow_pixels(path)
                with open(path + ".rgb", "wb") as f:
                    f.write(rgb.tobytes())
                entry.update(pillow=True, width=rgb.width, height=rgb.height)
            except Exception as e:  # noqa: BLE001 - any refusal is a data point
                entry.update(pillow=False, error=str(e).splitlines()[0][:200])
            manifest.append(entry)
    with open(os.path.join(args.out, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
    print(f"{len(manifest)} files from {len(photos)} photos in {args.out}")


if __name__ == "__main__":
    main()
