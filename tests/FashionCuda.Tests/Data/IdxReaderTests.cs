using FashionCuda.Data;

namespace FashionCuda.Tests.Data;

public sealed class IdxReaderTests : IDisposable
{
    private readonly TempDirectory temp = new();

    public void Dispose() => temp.Dispose();

    [Theory]
    [InlineData(false, "images")]
    [InlineData(true, "images.gz")]
    [InlineData(true, "images-without-suffix")] // gzip is found by its magic bytes, not by the name
    [InlineData(false, "plain-named.gz")]
    public void ReadImagesRoundTrip(bool gzip, string name)
    {
        byte[] pixels = IdxTestFiles.PatternPixels(3, 4, 5);
        string path = IdxTestFiles.Write(temp.Combine(name), IdxTestFiles.EncodeImages(3, 4, 5, pixels), gzip);

        IdxImages images = IdxReader.ReadImages(path);

        Assert.Equal(3, images.Count);
        Assert.Equal(4, images.Rows);
        Assert.Equal(5, images.Columns);
        Assert.Equal(pixels, images.Pixels);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void ReadLabelsRoundTrip(bool gzip)
    {
        byte[] labels = [3, 0, 9, 9, 1];
        string path = IdxTestFiles.Write(temp.Combine("labels"), IdxTestFiles.EncodeLabels(labels), gzip);

        Assert.Equal(labels, IdxReader.ReadLabels(path));
    }

    [Fact]
    public void ReadDatasetPairsImagesAndLabels()
    {
        byte[] pixels = IdxTestFiles.PatternPixels(4, 2, 3);
        byte[] labels = [1, 2, 3, 4];
        string images = IdxTestFiles.Write(temp.Combine("i.gz"), IdxTestFiles.EncodeImages(4, 2, 3, pixels), true);
        string labelsPath = IdxTestFiles.Write(temp.Combine("l"), IdxTestFiles.EncodeLabels(labels), false);

        ImageDataset dataset = IdxReader.ReadDataset(images, labelsPath);

        Assert.Equal(4, dataset.Count);
        Assert.Equal(2, dataset.Height);
        Assert.Equal(3, dataset.Width);
        Assert.Equal(pixels, dataset.Pixels);
        Assert.Equal(labels, dataset.Labels);
        Assert.Equal(pixels.AsSpan(6, 6).ToArray(), dataset.Image(1).ToArray());
    }

    [Fact]
    public void ReadImagesAcceptsZeroImages()
    {
        string path = IdxTestFiles.Write(temp.Combine("empty"), IdxTestFiles.EncodeImages(0, 28, 28, []), false);

        IdxImages images = IdxReader.ReadImages(path);

        Assert.Equal(0, images.Count);
        Assert.Empty(images.Pixels);
    }

    [Fact]
    public void LabelsFileAsImagesIsRejected()
    {
        string path = IdxTestFiles.Write(temp.Combine("labels"), IdxTestFiles.EncodeLabels([1, 2]), false);

        var error = Assert.Throws<DataFileException>(() => IdxReader.ReadImages(path));

        Assert.Equal(path, error.Path);
        Assert.Contains(path, error.Message);
        Assert.Contains("0x00000801", error.Message);
        Assert.Contains("0x00000803", error.Message);
        Assert.Contains("swapped", error.Message);
    }

    [Fact]
    public void ImagesFileAsLabelsIsRejected()
    {
        byte[] content = IdxTestFiles.EncodeImages(1, 2, 2, [1, 2, 3, 4]);
        string path = IdxTestFiles.Write(temp.Combine("images.gz"), content, true);

        var error = Assert.Throws<DataFileException>(() => IdxReader.ReadLabels(path));

        Assert.Contains(path, error.Message);
        Assert.Contains("0x00000803", error.Message);
        Assert.Contains("0x00000801", error.Message);
    }

    [Theory]
    [InlineData(0x00000D03, "element type 0x0D")] // float32 elements
    [InlineData(0x00000804, "4 dimensions")]
    [InlineData(0x1F2E3D4C, "not an IDX file")]
    public void BadMagicNumberIsRejected(int magic, string expected)
    {
        byte[] content = IdxTestFiles.Encode(magic, [1, 2, 2], [1, 2, 3, 4]);
        string path = IdxTestFiles.Write(temp.Combine("bad"), content, false);

        var error = Assert.Throws<DataFileException>(() => IdxReader.ReadImages(path));

        Assert.Contains(path, error.Message);
        Assert.Contains(expected, error.Message);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void TruncatedPayloadIsRejected(bool gzip)
    {
        byte[] content = IdxTestFiles.EncodeImages(10, 28, 28, IdxTestFiles.PatternPixels(10, 28, 28));
        byte[] truncated = content.AsSpan(0, content.Length - 1000).ToArray();
        string path = IdxTestFiles.Write(temp.Combine("train-images-idx3-ubyte.gz"), truncated, gzip);

        var error = Assert.Throws<DataFileException>(() => IdxReader.ReadImages(path));

        Assert.Equal(path, error.Path);
        Assert.Equal(
            $"{path} is truncated: the header promises 10 images of 28×28 (7840 bytes) but only 6840 bytes follow. " +
            "Download the file again or pass --data DIR.", error.Message);
    }

    [Fact]
    public void HugePromiseInSmallGzipIsTruncated()
    {
        // 60000 images promised but 10 given: the reader must report this without allocating 47 MB first.
        byte[] content = IdxTestFiles.EncodeImages(60000, 28, 28, IdxTestFiles.PatternPixels(10, 28, 28));
        string path = IdxTestFiles.Write(temp.Combine("short.gz"), content, true);

        var error = Assert.Throws<DataFileException>(() => IdxReader.ReadImages(path));

        Assert.Contains("60000 images of 28×28 (47040000 bytes) but only 7840 bytes follow", error.Message);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(3)]
    [InlineData(9)]
    public void TruncatedHeaderIsRejected(int length)
    {
        byte[] content = IdxTestFiles.EncodeImages(1, 2, 2, [1, 2, 3, 4]).AsSpan(0, length).ToArray();
        string path = IdxTestFiles.Write(temp.Combine("header"), content, false);

        var error = Assert.Throws<DataFileException>(() => IdxReader.ReadImages(path));

        Assert.Contains(path, error.Message);
        Assert.Contains("is truncated", error.Message);
    }

    [Fact]
    public void ZeroRowsIsRejected()
    {
        string path = IdxTestFiles.Write(temp.Combine("rows"), IdxTestFiles.EncodeImages(1, 0, 28, []), false);

        var error = Assert.Throws<DataFileException>(() => IdxReader.ReadImages(path));

        Assert.Contains(path, error.Message);
        Assert.Contains("dimension 2", error.Message);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void TrailingBytesAreRejected(bool gzip)
    {
        byte[] content = [.. IdxTestFiles.EncodeLabels([1, 2, 3]), 7, 7];
        string path = IdxTestFiles.Write(temp.Combine("labels"), content, gzip);

        var error = Assert.Throws<DataFileException>(() => IdxReader.ReadLabels(path));

        Assert.Equal(path, error.Path);
        Assert.StartsWith($"{path} has 2 bytes after the 3 labels (3 bytes)", error.Message);
    }

    [Fact]
    public void LabelOutOfRangeIsRejected()
    {
        string path = IdxTestFiles.Write(temp.Combine("labels"), IdxTestFiles.EncodeLabels([0, 9, 12, 3]), false);

        var error = Assert.Throws<DataFileException>(() => IdxReader.ReadLabels(path));

        Assert.Contains(path, error.Message);
        Assert.Contains("label 12 at index 2", error.Message);
        Assert.Contains("0-9", error.Message);
    }

    [Fact]
    public void CountMismatchIsRejected()
    {
        byte[] images = IdxTestFiles.EncodeImages(3, 2, 2, IdxTestFiles.PatternPixels(3, 2, 2));
        string imagesPath = IdxTestFiles.Write(temp.Combine("images"), images, false);
        string labelsPath = IdxTestFiles.Write(temp.Combine("labels"), IdxTestFiles.EncodeLabels([1, 2]), false);

        var error = Assert.Throws<DataFileException>(() => IdxReader.ReadDataset(imagesPath, labelsPath));

        Assert.Contains($"{imagesPath} holds 3 images but {labelsPath} holds 2 labels", error.Message);
    }

    [Fact]
    public void MissingFileIsRejected()
    {
        string path = temp.Combine("absent-images");

        var error = Assert.Throws<DataFileException>(() => IdxReader.ReadImages(path));

        Assert.Equal(path, error.Path);
        Assert.Contains($"{path} was not found", error.Message);
    }

    [Fact]
    public void DamagedGzipIsRejected()
    {
        byte[] gzip = IdxTestFiles.Gzip(IdxTestFiles.EncodeLabels([1, 2, 3, 4, 5, 6, 7, 8]));
        for (int i = 10; i < gzip.Length - 8; i++)
            gzip[i] ^= 0x5A; // scramble the deflate data but keep the gzip magic bytes
        string path = temp.Combine("labels.gz");
        File.WriteAllBytes(path, gzip);

        var error = Assert.Throws<DataFileException>(() => IdxReader.ReadLabels(path));

        Assert.Equal(path, error.Path);
        Assert.Contains(path, error.Message);
    }
}
