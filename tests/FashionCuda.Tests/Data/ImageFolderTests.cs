using FashionCuda.Data;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Jpeg;
using SixLabors.ImageSharp.Formats.Png;
using SixLabors.ImageSharp.Metadata.Profiles.Exif;
using SixLabors.ImageSharp.PixelFormats;

namespace FashionCuda.Tests.Data;

public sealed class ImageFolderTests : IDisposable
{
    private readonly string root = Directory.CreateTempSubdirectory("fashioncuda-photos-").FullName;
    private readonly List<string> warnings = new();

    public void Dispose() => Directory.Delete(root, recursive: true);

    private string PathOf(string relative)
    {
        string path = Path.Combine(root, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        return path;
    }

    /// <summary>An RGB image whose pixel (x, y) is (10x + y, 100 + x, 200 − y), so every pixel is distinct.</summary>
    private static Image<Rgb24> Gradient(int width, int height)
    {
        var image = new Image<Rgb24>(width, height);
        for (int y = 0; y < height; y++)
        {
            for (int x = 0; x < width; x++)
                image[x, y] = new Rgb24((byte)(10 * x + y), (byte)(100 + x), (byte)(200 - y));
        }
        return image;
    }

    private void SavePng(string relative, int width = 4, int height = 4)
    {
        using var image = Gradient(width, height);
        image.SaveAsPng(PathOf(relative));
    }

    private static ImageFolderOptions Options(int channels = 3, int size = 4, ResizeMode resize = ResizeMode.Crop) =>
        new() { Transform = new ImageTransform { Channels = channels, Size = size, Resize = resize } };

    private byte[] DecodeOne(string relative, ImageFolderOptions options)
    {
        var transform = options.Transform;
        var pixels = new byte[transform.Channels * transform.Size * transform.Size];
        ImageFolderDecoder.Decode(Path.Combine(root, relative), transform, pixels);
        return pixels;
    }

    private ImageFolderData Load(ImageFolderOptions options) => ImageFolder.Load(root, options, warnings.Add);

    [Fact]
    public void Decode_RgbPngIsExactInChwOrder()
    {
        SavePng("a/x.png");

        var pixels = DecodeOne("a/x.png", Options());

        for (int y = 0; y < 4; y++)
        {
            for (int x = 0; x < 4; x++)
            {
                Assert.Equal(10 * x + y, pixels[y * 4 + x]);
                Assert.Equal(100 + x, pixels[16 + y * 4 + x]);
                Assert.Equal(200 - y, pixels[32 + y * 4 + x]);
            }
        }
    }

    [Fact]
    public void Decode_RgbToGreyUsesBt601Luma()
    {
        SavePng("a/x.png");

        var pixels = DecodeOne("a/x.png", Options(channels: 1));

        for (int y = 0; y < 4; y++)
        {
            for (int x = 0; x < 4; x++)
            {
                int expected = (299 * (10 * x + y) + 587 * (100 + x) + 114 * (200 - y) + 500) / 1000;
                Assert.Equal(expected, pixels[y * 4 + x]);
            }
        }
    }

    [Fact]
    public void Decode_SixteenBitPngIsExact()
    {
        using (var image = new Image<L16>(4, 4))
        {
            for (int i = 0; i < 16; i++)
                image[i % 4, i / 4] = new L16((ushort)(i * 15 * 257)); // 257·v is v in 8 bits exactly
            image.SaveAsPng(PathOf("a/deep.png"), new PngEncoder { BitDepth = PngBitDepth.Bit16 });
        }

        var grey = DecodeOne("a/deep.png", Options(channels: 1));
        var rgb = DecodeOne("a/deep.png", Options(channels: 3));

        for (int i = 0; i < 16; i++)
        {
            Assert.Equal(i * 15, grey[i]);
            Assert.Equal(i * 15, rgb[i]);
            Assert.Equal(i * 15, rgb[16 + i]);
            Assert.Equal(i * 15, rgb[32 + i]);
        }
    }

    [Fact]
    public void Decode_PalettePngIsExact()
    {
        using (var image = new Image<Rgb24>(4, 4))
        {
            for (int i = 0; i < 16; i++)
                image[i % 4, i / 4] = i % 2 == 0 ? new Rgb24(255, 0, 0) : new Rgb24(0, 0, 255);
            image.SaveAsPng(PathOf("a/palette.png"), new PngEncoder { ColorType = PngColorType.Palette });
        }

        var pixels = DecodeOne("a/palette.png", Options());

        for (int i = 0; i < 16; i++)
        {
            Assert.Equal(i % 2 == 0 ? 255 : 0, pixels[i]);
            Assert.Equal(0, pixels[16 + i]);
            Assert.Equal(i % 2 == 0 ? 0 : 255, pixels[32 + i]);
        }
    }

    [Fact]
    public void Decode_AlphaIsCompositedOverWhite()
    {
        using (var image = new Image<Rgba32>(4, 4))
        {
            for (int i = 0; i < 16; i++)
                image[i % 4, i / 4] = new Rgba32(200, 100, 0, (byte)(i * 17));
            image.SaveAsPng(PathOf("a/alpha.png"));
        }

        var pixels = DecodeOne("a/alpha.png", Options());

        for (int i = 0; i < 16; i++)
        {
            int alpha = i * 17;
            Assert.Equal((200 * alpha + 255 * (255 - alpha) + 127) / 255, pixels[i]);
            Assert.Equal((100 * alpha + 255 * (255 - alpha) + 127) / 255, pixels[16 + i]);
            Assert.Equal((255 * (255 - alpha) + 127) / 255, pixels[32 + i]);
        }
    }

    [Fact]
    public void Decode_GreyJpegWithinOneLevel()
    {
        // Flat 8×8 blocks keep only the DC coefficient, so the lossy codec returns each level within 1.
        using (var image = new Image<L8>(16, 8))
        {
            for (int y = 0; y < 8; y++)
            {
                for (int x = 0; x < 16; x++)
                    image[x, y] = new L8(x < 8 ? (byte)40 : (byte)210);
            }
            var encoder = new JpegEncoder { ColorType = JpegColorType.Luminance, Quality = 100 };
            image.SaveAsJpeg(PathOf("a/grey.jpg"), encoder);
        }

        var pixels = DecodeOne("a/grey.jpg", Options(channels: 1, size: 8, resize: ResizeMode.Pad));

        // Scaled to 8×4 and centred: rows 0, 1, 6 and 7 are padding.
        Assert.All(pixels[..16], p => Assert.Equal(0, p));
        Assert.All(pixels[48..], p => Assert.Equal(0, p));
        Assert.InRange(pixels[2 * 8 + 1], 39, 41);
        Assert.InRange(pixels[2 * 8 + 6], 209, 211);
    }

    [Fact]
    public void Decode_HonoursExifOrientation()
    {
        // 16 wide, 8 tall: the left half is black and the right half white. Orientation 6 means the camera
        // was turned, and the viewer rotates 90° clockwise: the image becomes 8 wide, 16 tall, black on top.
        using (var image = new Image<Rgb24>(16, 8))
        {
            for (int y = 0; y < 8; y++)
            {
                for (int x = 0; x < 16; x++)
                    image[x, y] = x < 8 ? new Rgb24(0, 0, 0) : new Rgb24(255, 255, 255);
            }
            image.Metadata.ExifProfile = new ExifProfile();
            image.Metadata.ExifProfile.SetValue(ExifTag.Orientation, (ushort)6);
            image.SaveAsJpeg(PathOf("a/rotated.jpg"), new JpegEncoder { Quality = 100 });
        }

        var pixels = DecodeOne("a/rotated.jpg", Options(channels: 1, size: 16, resize: ResizeMode.Pad));

        for (int y = 0; y < 16; y++)
        {
            Assert.Equal(0, pixels[y * 16 + 1]); // left padding
            Assert.Equal(0, pixels[y * 16 + 14]); // right padding
        }
        Assert.InRange(pixels[2 * 16 + 8], 0, 20);
        Assert.InRange(pixels[13 * 16 + 8], 235, 255);
    }

    [Fact]
    public void Decode_CropKeepsTheCentre()
    {
        SavePng("a/tall.png", width: 4, height: 8);

        var pixels = DecodeOne("a/tall.png", Options(channels: 3, size: 4, resize: ResizeMode.Crop));

        for (int y = 0; y < 4; y++)
        {
            for (int x = 0; x < 4; x++)
                Assert.Equal(10 * x + (y + 2), pixels[y * 4 + x]);
        }
    }

    [Fact]
    public void Decode_PadCentresOnBlack()
    {
        SavePng("a/wide.png", width: 8, height: 4);

        var pixels = DecodeOne("a/wide.png", Options(channels: 3, size: 8, resize: ResizeMode.Pad));

        for (int y = 0; y < 8; y++)
        {
            for (int x = 0; x < 8; x++)
            {
                int expected = y is >= 2 and < 6 ? 200 - (y - 2) : 0;
                Assert.Equal(expected, pixels[2 * 64 + y * 8 + x]);
            }
        }
    }

    [Theory]
    [InlineData(100, 50, 32, ResizeMode.Crop, 64, 32)]
    [InlineData(100, 50, 32, ResizeMode.Pad, 32, 16)]
    [InlineData(30, 90, 10, ResizeMode.Crop, 10, 30)]
    [InlineData(32, 32, 32, ResizeMode.Crop, 32, 32)]
    [InlineData(1000, 1, 8, ResizeMode.Pad, 8, 1)]
    public void ScaledSize_KeepsAspectRatio(int width, int height, int size, ResizeMode resize, int expectedWidth,
        int expectedHeight)
    {
        Assert.Equal((expectedWidth, expectedHeight), ImageFolderDecoder.ScaledSize(width, height, size, resize));
    }

    [Fact]
    public void Load_SortsClassesAndSkipsBadFiles()
    {
        for (int i = 0; i < 5; i++)
        {
            SavePng($"zebra/{i}.png");
            SavePng($"apple/{i}.png");
        }
        File.WriteAllBytes(PathOf("apple/corrupt.png"), [0x89, 0x50, 0x4E, 0x47, 1, 2, 3, 4, 5, 6]);
        File.WriteAllBytes(PathOf("zebra/empty.jpg"), []);
        SavePng("zebra/whole.png", 16, 16);
        var whole = File.ReadAllBytes(PathOf("zebra/whole.png"));
        File.WriteAllBytes(PathOf("zebra/truncated.png"), whole[..(whole.Length / 2)]);
        File.Delete(PathOf("zebra/whole.png"));

        var data = Load(Options() with { TestFraction = 0.4 });

        Assert.Equal(["apple", "zebra"], data.ClassNames);
        Assert.Equal(3, data.SkippedCount);
        Assert.Equal(3, warnings.Count);
        foreach (var name in new[] { "corrupt.png", "empty.jpg", "truncated.png" })
            Assert.Single(warnings, w => w.Contains(name));
        Assert.Contains(warnings, w => w.Contains("empty.jpg") && w.Contains("empty"));
        Assert.Equal(10, data.Train.Dataset.Count + data.Test.Dataset.Count);
        Assert.Equal(2, data.Test.Dataset.CountPerClass().Sum(c => c > 0 ? 1 : 0));
        Assert.Equal(3, data.Train.Dataset.Channels);
        Assert.All(data.Train.Paths, path => Assert.StartsWith(root, path));
    }

    [Fact]
    public void Load_UsesTrainAndTestFolders()
    {
        SavePng("train/cat/a.png");
        SavePng("train/dog/b.png");
        SavePng("train/dog/c.png");
        SavePng("test/dog/d.png");

        var data = Load(Options());

        Assert.Equal("train/test folders", data.Layout);
        Assert.Equal(["cat", "dog"], data.ClassNames);
        Assert.Equal([0, 1, 1], data.Train.Dataset.Labels);
        Assert.Equal([1], data.Test.Dataset.Labels);
    }

    [Fact]
    public void Load_ReadsCsvListFile()
    {
        SavePng("img/1.png");
        SavePng("img/2.png");
        SavePng("img/3.png");
        SavePng("img/4.png");
        File.WriteAllText(PathOf("list.csv"),
            "path,label\nimg/1.png,shirt\nimg/2.png,shirt\nimg/3.png,bag\nimg/4.png,bag\n");

        var options = Options() with { TestFraction = 0.5 };
        var data = ImageFolder.Load(Path.Combine(root, "list.csv"), options, warnings.Add);

        Assert.Equal("list file", data.Layout);
        Assert.Equal(["bag", "shirt"], data.ClassNames);
        Assert.Equal(2, data.Train.Dataset.Count);
        Assert.Equal(2, data.Test.Dataset.Count);
        Assert.Empty(warnings);
    }

    [Fact]
    public void Load_SecondRunReadsTheCache()
    {
        for (int i = 0; i < 3; i++)
        {
            SavePng($"a/{i}.png");
            SavePng($"b/{i}.png");
        }

        var first = Load(Options());
        var second = Load(Options());
        File.SetLastWriteTimeUtc(PathOf("a/0.png"), DateTime.UtcNow.AddMinutes(-5));
        var third = Load(Options());

        Assert.False(first.Train.FromCache);
        Assert.True(second.Train.FromCache);
        Assert.True(second.Test.FromCache);
        Assert.Equal(first.Train.Dataset.Pixels, second.Train.Dataset.Pixels);
        Assert.Equal(first.Train.Dataset.Labels, second.Train.Dataset.Labels);
        Assert.Equal(first.Train.Paths, second.Train.Paths);
        Assert.False(third.Train.FromCache && third.Test.FromCache);
        Assert.Single(Directory.GetFiles(Path.Combine(root, ImageFolder.CacheFolderName), "train-*.bin"));
    }

    [Fact]
    public void Load_DamagedCacheIsRebuilt()
    {
        for (int i = 0; i < 3; i++)
        {
            SavePng($"a/{i}.png");
            SavePng($"b/{i}.png");
        }
        var first = Load(Options());
        foreach (var file in Directory.GetFiles(Path.Combine(root, ImageFolder.CacheFolderName)))
            File.WriteAllBytes(file, File.ReadAllBytes(file)[..60]);

        var second = Load(Options());

        Assert.False(second.Train.FromCache);
        Assert.Equal(first.Train.Dataset.Pixels, second.Train.Dataset.Pixels);
    }

    [Fact]
    public void Load_MissingFolderIsNotFound()
    {
        var error = Assert.Throws<DataFileException>(() =>
            ImageFolder.Load(Path.Combine(root, "nope"), Options(), warnings.Add));

        Assert.Contains(Path.Combine(root, "nope"), error.Message);
        Assert.Contains("not found", error.Message);
    }

    [Fact]
    public void Load_LooseImagesNeedClassFolders()
    {
        SavePng("loose.png");

        var error = Assert.Throws<DataFileException>(() => Load(Options()));

        Assert.Contains("no class subfolders", error.Message);
        Assert.Contains("ROOT/<class>/<image>", error.Message);
    }

    [Fact]
    public void Load_OneClassIsRejected()
    {
        SavePng("only/a.png");
        SavePng("only/b.png");

        var error = Assert.Throws<DataFileException>(() => Load(Options()));

        Assert.Contains("only one class, 'only'", error.Message);
    }

    [Fact]
    public void Load_UnknownExtensionsOnlyAreNamed()
    {
        File.WriteAllText(PathOf("a/notes.txt"), "x");
        File.WriteAllText(PathOf("b/photo.heic"), "x");

        var error = Assert.Throws<DataFileException>(() => Load(Options()));

        Assert.Contains(".txt", error.Message);
        Assert.Contains(".heic", error.Message);
        Assert.Contains(".png", error.Message);
    }

    [Fact]
    public void Load_UnknownTestClassIsRejected()
    {
        SavePng("train/cat/a.png");
        SavePng("train/dog/b.png");
        SavePng("test/bird/c.png");

        var error = Assert.Throws<DataFileException>(() => Load(Options()));

        Assert.Contains("bird", error.Message);
    }

    [Fact]
    public void Load_AllImagesDamagedIsAnError()
    {
        File.WriteAllBytes(PathOf("a/1.png"), [1, 2, 3]);
        File.WriteAllBytes(PathOf("a/2.png"), [1, 2, 3]);
        File.WriteAllBytes(PathOf("b/1.png"), [1, 2, 3]);
        File.WriteAllBytes(PathOf("b/2.png"), [1, 2, 3]);

        var error = Assert.Throws<DataFileException>(() => Load(Options() with { TestFraction = 0.5 }));

        Assert.Contains("could be decoded", error.Message);
        Assert.Equal(4, warnings.Count);
    }

    [Fact]
    public void Load_ClassWithOnlyDamagedImagesIsDropped()
    {
        for (int i = 0; i < 3; i++)
        {
            SavePng($"a/{i}.png");
            SavePng($"b/{i}.png");
        }
        File.WriteAllBytes(PathOf("ghost/empty.png"), []);
        File.WriteAllBytes(PathOf("ghost/cut.png"), [0x89, (byte)'P', (byte)'N', (byte)'G']);

        var data = Load(Options() with { TestFraction = 0.34 });

        Assert.Equal(["a", "b"], data.ClassNames);
        Assert.Equal(2, data.Train.Dataset.ClassCount);
        Assert.Equal(2, data.Test.Dataset.ClassCount);
        Assert.All(data.Train.Dataset.Labels, label => Assert.InRange(label, 0, 1));
        Assert.Equal(6, data.Train.Dataset.Count + data.Test.Dataset.Count);
        Assert.Contains(warnings, line => line.Contains("class 'ghost' is left out"));
    }

    [Fact]
    public void Load_OneClassLeftAfterDecodingIsRejected()
    {
        SavePng("a/0.png");
        SavePng("a/1.png");
        File.WriteAllBytes(PathOf("ghost/empty.png"), []);

        var error = Assert.Throws<DataFileException>(() => Load(Options() with { TestFraction = 0.5 }));

        Assert.Contains("only 1 class", error.Message);
        Assert.Contains("'ghost'", error.Message);
    }

    [Fact]
    public void Load_TrainFolderWithoutTestIsNamed()
    {
        SavePng("train/a/0.png");
        SavePng("train/b/0.png");

        var error = Assert.Throws<DataFileException>(() => Load(Options()));

        Assert.Contains($"{Path.Combine(root, "test")} is missing", error.Message);
        Assert.DoesNotContain("only one class", error.Message);
    }

    private ImageFolderData LoadList(string text)
    {
        File.WriteAllText(PathOf("list.csv"), text);
        return ImageFolder.Load(Path.Combine(root, "list.csv"), Options() with { TestFraction = 0.5 }, warnings.Add);
    }

    private void SaveFourImages()
    {
        for (int i = 1; i <= 4; i++)
            SavePng($"img/{i}.png");
    }

    [Fact]
    public void LoadList_ThirdFieldIsRejected()
    {
        SaveFourImages();

        var error = Assert.Throws<DataFileException>(() =>
            LoadList("img/1.png,bag\nimg/2.png,bag,extra\nimg/3.png,shirt\nimg/4.png,shirt\n"));

        Assert.Contains("line 2", error.Message);
        Assert.Contains("3 fields", error.Message);
    }

    [Fact]
    public void LoadList_AnyHeaderIsSkipped()
    {
        SaveFourImages();

        var data = LoadList("file,class\nimg/1.png,bag\nimg/2.png,bag\nimg/3.png,shirt\nimg/4.png,shirt\n");

        Assert.Equal(["bag", "shirt"], data.ClassNames);
    }

    [Fact]
    public void LoadList_QuotedPathMayContainComma()
    {
        SaveFourImages();
        SavePng("img/a,b.png");

        var data = LoadList("\"img/a,b.png\",bag\nimg/1.png,bag\nimg/3.png,shirt\nimg/4.png,shirt\n");

        Assert.Equal(["bag", "shirt"], data.ClassNames);
        Assert.Contains(Path.Combine(root, "img", "a,b.png"), data.Train.Paths.Concat(data.Test.Paths));
    }

    [Fact]
    public void LoadList_DuplicateLineIsRejected()
    {
        SaveFourImages();

        var error = Assert.Throws<DataFileException>(() =>
            LoadList("img/1.png,bag\nimg/2.png,bag\nimg/3.png,shirt\n./img/1.png,bag\n"));

        Assert.Contains("line 4", error.Message);
        Assert.Contains("already listed on line 1", error.Message);
    }

    [Fact]
    public void LoadList_LabelsDifferingInCaseAreRejected()
    {
        SaveFourImages();

        var error = Assert.Throws<DataFileException>(() =>
            LoadList("img/1.png,bag\nimg/2.png,Bag\nimg/3.png,shirt\nimg/4.png,shirt\n"));

        Assert.Contains("'bag' (line 1) and 'Bag' (line 2)", error.Message);
    }

    [Fact]
    public void LoadList_MissingImageIsAnError()
    {
        SaveFourImages();

        var error = Assert.Throws<DataFileException>(() =>
            LoadList("img/1.png,bag\nimg/2.png,bag\nimg/3.png,shirt\nimg/typo.png,shirt\n"));

        Assert.Contains("line 4", error.Message);
        Assert.Contains(Path.Combine(root, "img", "typo.png"), error.Message);
        Assert.Contains("not found", error.Message);
    }

    [Fact]
    public void Decode_OversizedImageIsRejectedFromItsHeader()
    {
        // A PNG header that declares 20000×20000 pixels; decoding it whole would allocate 1.6 GB.
        string path = PathOf("big.png");
        File.WriteAllBytes(path, PngHeaderOnly(20_000, 20_000));

        var error = Assert.Throws<ImageDecodeException>(() => DecodeOne("big.png", Options()));

        Assert.Contains("20000×20000", error.Message);
        Assert.Contains("megapixels", error.Message);
    }

    /// <summary>The PNG signature, an IHDR chunk (8-bit RGB) with a valid CRC-32, and IEND.</summary>
    private static byte[] PngHeaderOnly(int width, int height)
    {
        var bytes = new List<byte> { 0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A };
        void Chunk(string type, byte[] data)
        {
            var length = new byte[4];
            System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(length, data.Length);
            bytes.AddRange(length);
            byte[] typed = [.. System.Text.Encoding.ASCII.GetBytes(type), .. data];
            bytes.AddRange(typed);
            var crc = new byte[4];
            System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(crc, Crc32(typed));
            bytes.AddRange(crc);
        }
        var header = new byte[13];
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(header, width);
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(4), height);
        header[8] = 8; // bit depth
        header[9] = 2; // colour type RGB
        Chunk("IHDR", header);
        Chunk("IEND", []);
        return bytes.ToArray();
    }

    private static uint Crc32(byte[] data)
    {
        uint crc = 0xFFFFFFFF;
        foreach (byte b in data)
        {
            crc ^= b;
            for (int k = 0; k < 8; k++)
                crc = (crc & 1) != 0 ? (crc >> 1) ^ 0xEDB88320 : crc >> 1;
        }
        return ~crc;
    }

    [Fact]
    public void Normalization_IsComputedPerChannel()
    {
        // Two 1×2 RGB images: channel 0 takes 0 and 255, channel 1 takes 51 and 102, channel 2 is 255 or 0.
        byte[] pixels = [0, 255, 51, 102, 255, 0, 0, 255, 51, 102, 255, 0];
        var dataset = new ImageDataset(pixels, [0, 1], 1, 2, classCount: 2, channels: 3);

        var normalization = Normalization.Compute(dataset);

        Assert.Equal(3, normalization.Channels);
        Assert.Equal(0.5f, normalization.Means[0]);
        Assert.Equal(0.3f, normalization.Means[1], 1e-6f);
        Assert.Equal(0.5f, normalization.Stds[2]);
        Assert.Equal(0.1f, normalization.Stds[1], 1e-6f);
        Assert.Equal(-1f, normalization.Apply(0, 0));
        Assert.Equal(-3f, normalization.Apply(0, 1), 1e-5f);
    }
}
