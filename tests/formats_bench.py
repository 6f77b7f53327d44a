#!/usr/bin/python3
"""Makes the inputs of tests/formats_bench.ts in a folder (default /tmp/zpix-formats-bench),
from the sRGB JPEGs of ../shared/datasets/photos (development time only; Debian's python3-pil,
webp, libavif-bin, libheif-examples):

- colour/NAME_{prophoto,adobergb,p3}.jpg: each photo converted into that space with Pillow's
  ImageCms (LittleCMS) and saved at quality 95 with the profile embedded (the profiles of
  tests/fixtures/make_formats.py), plus colour/NAME_*.ref.png: the true sRGB pixels, the
  JPEG decoded by Pillow and converted back to sRGB with ImageCms;
- formats/NAME.{jpg,png,webp,avif,heic,gif}: each photo in each format (cwebp -q 75,
  avifenc -s 6, heif-enc -q 75, Pillow's PNG and GIF);
- big/I_{srgb,p3}.jpg: ten photos enlarged to 2400x1800, as sRGB and as Display P3 (q90).

    /usr/bin/python3 tests/formats_bench.py [COUNT] [OUT]
"""
import importlib.util
import io
import os
import subprocess
import sys

from PIL import Image, ImageCms

HERE = os.path.dirname(os.path.abspath(__file__))
spec = importlib.util.spec_from_file_location("mf", os.path.join(HERE, "fixtures", "make_formats.py"))
mf_module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(mf_module)
mf = vars(mf_module)

COUNT = int(sys.argv[1]) if len(sys.argv) > 1 else 100
OUT = sys.argv[2] if len(sys.argv) > 2 else "/tmp/zpix-formats-bench"
PHOTOS = os.path.join(HERE, "..", "..", "shared", "datasets", "photos")
SRGB = ImageCms.createProfile("sRGB")

os.makedirs(os.path.join(OUT, "colour"), exist_ok=True)
os.makedirs(os.path.join(OUT, "formats"), exist_ok=True)
names = sorted(os.listdir(PHOTOS))[:COUNT]
for name in names:
    stem = name.rsplit(".", 1)[0]
    im = Image.open(os.path.join(PHOTOS, name)).convert("RGB")
    for kind, icc in mf["PROFILES"].items():
        prof = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        wide = ImageCms.profileToProfile(im, SRGB, prof, outputMode="RGB")
        path = os.path.join(OUT, "colour", f"{stem}_{kind}.jpg")
        wide.save(path, "JPEG", quality=95, icc_profile=icc)
        back = ImageCms.profileToProfile(Image.open(path), prof, SRGB, outputMode="RGB")
        back.save(os.path.join(OUT, "colour", f"{stem}_{kind}.ref.png"))
    f = os.path.join(OUT, "formats", stem)
    im.save(f + ".jpg", quality=90)
    im.save(f + ".png")
    im.quantize(256).save(f + ".gif")
    subprocess.run(["cwebp", "-quiet", "-q", "75", f + ".png", "-o", f + ".webp"], check=True)
    subprocess.run(["avifenc", "-s", "6", f + ".png", f + ".avif"], check=True, stdout=subprocess.DEVNULL)
    subprocess.run(["heif-enc", "-q", "75", f + ".png", "-o", f + ".heic"], check=True, stdout=subprocess.DEVNULL)
os.makedirs(os.path.join(OUT, "big"), exist_ok=True)
p3 = ImageCms.ImageCmsProfile(io.BytesIO(mf["PROFILES"]["p3"]))
for i, name in enumerate(names[:10]):
    im = Image.open(os.path.join(PHOTOS, name)).convert("RGB").resize((2400, 1800))
    im.save(os.path.join(OUT, "big", f"{i}_srgb.jpg"), quality=90)
    ImageCms.profileToProfile(im, SRGB, p3, outputMode="RGB").save(
        os.path.join(OUT, "big", f"{i}_p3.jpg"), quality=90, icc_profile=mf["PROFILES"]["p3"])
print(OUT, len(names))
