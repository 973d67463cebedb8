using FashionCuda.Data;

namespace FashionCuda.Tests.Data;

public sealed class DataLoaderTests
{
    private const int Side = 4;

    /// <summary>103 images of 4×4 whose pixels encode the image index, so batches can be checked exactly.</summary>
    private static ImageDataset SyntheticDataset(int count = 103)
    {
        var pixels = new byte[count * Side * Side];
        for (int i = 0; i < count; i++)
            for (int p = 0; p < Side * Side; p++)
                pixels[i * Side * Side + p] = (byte)((i + 3 * p) % 256);
        byte[] labels = Enumerable.Range(0, count).Select(i => (byte)(i * 7 % 10)).ToArray();
        return new ImageDataset(pixels, labels, Side, Side);
    }

    /// <summary>Copies every batch of one epoch: sample indices, images and labels.</summary>
    private static List<(int[] Indices, float[] Images, float[] Labels)> ReadEpoch(DataLoader loader, int epoch)
    {
        var batches = new List<(int[], float[], float[])>();
        foreach (Batch batch in loader.Epoch(epoch))
            batches.Add((batch.SampleIndices.ToArray(), batch.Images.ToArray(), batch.Labels.ToArray()));
        return batches;
    }

    private static float[] Flatten(List<(int[] Indices, float[] Images, float[] Labels)> epoch) =>
        epoch.SelectMany(batch => batch.Images).ToArray();

    [Theory]
    [InlineData(0)]
    [InlineData(2)]
    public void EpochCoversEveryIndexOnce(int prefetchDepth)
    {
        ImageDataset dataset = SyntheticDataset();
        using var loader = new DataLoader(dataset, Normalization.Identity,
            new DataLoaderOptions { BatchSize = 10, Seed = 1, PrefetchDepth = prefetchDepth });

        var epoch = ReadEpoch(loader, 0);

        Assert.Equal(11, loader.BatchesPerEpoch);
        Assert.Equal(11, epoch.Count);
        Assert.All(epoch.Take(10), batch => Assert.Equal(10, batch.Indices.Length));
        Assert.Equal(3, epoch[^1].Indices.Length); // the partial last batch is kept
        int[] indices = epoch.SelectMany(batch => batch.Indices).ToArray();
        Assert.Equal(Enumerable.Range(0, 103), indices.Order());
        Assert.NotEqual(Enumerable.Range(0, 103), indices); // shuffled
    }

    [Fact]
    public void BatchContentsMatchTheDataset()
    {
        ImageDataset dataset = SyntheticDataset();
        using var loader = new DataLoader(dataset, Normalization.Identity,
            new DataLoaderOptions { BatchSize = 16, Seed = 2 });

        foreach (var (indices, images, labels) in ReadEpoch(loader, 0))
        {
            Assert.Equal(indices.Length * Side * Side, images.Length);
            for (int i = 0; i < indices.Length; i++)
            {
                Assert.Equal(dataset.Labels[indices[i]], labels[i]);
                float[] expected = dataset.Image(indices[i]).ToArray().Select(p => p / 255f).ToArray();
                Assert.Equal(expected, images.AsSpan(i * Side * Side, Side * Side).ToArray());
            }
        }
    }

    [Fact]
    public void DropLastSkipsPartialBatch()
    {
        using var loader = new DataLoader(SyntheticDataset(), Normalization.Identity,
            new DataLoaderOptions { BatchSize = 10, DropLast = true });

        var epoch = ReadEpoch(loader, 0);

        Assert.Equal(10, loader.BatchesPerEpoch);
        Assert.Equal(10, epoch.Count);
        Assert.All(epoch, batch => Assert.Equal(10, batch.Indices.Length));
        Assert.Equal(100, epoch.SelectMany(batch => batch.Indices).Distinct().Count());
    }

    [Fact]
    public void NoShuffleKeepsDatasetOrder()
    {
        using var loader = new DataLoader(SyntheticDataset(), Normalization.Identity,
            new DataLoaderOptions { BatchSize = 32, Shuffle = false });

        int[] indices = ReadEpoch(loader, 3).SelectMany(batch => batch.Indices).ToArray();

        Assert.Equal(Enumerable.Range(0, 103), indices);
    }

    [Fact]
    public void SameSeedGivesSameBatches()
    {
        var options = new DataLoaderOptions { BatchSize = 8, Seed = 42, Augmentation = AugmentationOptions.Standard };
        using var first = new DataLoader(SyntheticDataset(), Normalization.Identity, options);
        using var second = new DataLoader(SyntheticDataset(), Normalization.Identity, options);
        using var other = new DataLoader(SyntheticDataset(), Normalization.Identity, options with { Seed = 43 });

        float[] a0 = Flatten(ReadEpoch(first, 0));
        float[] a1 = Flatten(ReadEpoch(first, 1));
        float[] b1 = Flatten(ReadEpoch(second, 1)); // epochs can be read out of order, e.g. after a resume
        float[] b0 = Flatten(ReadEpoch(second, 0));
        float[] c0 = Flatten(ReadEpoch(other, 0));

        Assert.Equal(a0, b0);
        Assert.Equal(a1, b1);
        Assert.NotEqual(a0, a1);
        Assert.NotEqual(a0, c0);
    }

    [Fact]
    public void PrefetchGivesSameBatchesAsInline()
    {
        ImageDataset dataset = SyntheticDataset();
        var options = new DataLoaderOptions { BatchSize = 7, Seed = 9, Augmentation = AugmentationOptions.Standard };
        using var inline = new DataLoader(dataset, Normalization.Identity, options with { PrefetchDepth = 0 });
        using var prefetchOne = new DataLoader(dataset, Normalization.Identity, options with { PrefetchDepth = 1 });
        using var prefetchFour = new DataLoader(dataset, Normalization.Identity, options with { PrefetchDepth = 4 });

        for (int epoch = 0; epoch < 3; epoch++)
        {
            var expected = ReadEpoch(inline, epoch);
            foreach (DataLoader loader in new[] { prefetchOne, prefetchFour })
            {
                var actual = ReadEpoch(loader, epoch);
                Assert.Equal(expected.Count, actual.Count);
                for (int b = 0; b < expected.Count; b++)
                {
                    Assert.Equal(expected[b].Indices, actual[b].Indices);
                    Assert.Equal(expected[b].Images, actual[b].Images);
                    Assert.Equal(expected[b].Labels, actual[b].Labels);
                }
            }
        }
    }

    [Fact]
    public void PrefetchWithSlowConsumerKeepsOrder()
    {
        ImageDataset dataset = SyntheticDataset();
        var options = new DataLoaderOptions { BatchSize = 5, Seed = 3, Augmentation = AugmentationOptions.Standard };
        using var inline = new DataLoader(dataset, Normalization.Identity, options with { PrefetchDepth = 0 });
        using var prefetch = new DataLoader(dataset, Normalization.Identity, options with { PrefetchDepth = 2 });
        float[] expected = Flatten(ReadEpoch(inline, 0));

        var actual = new List<float>();
        foreach (Batch batch in prefetch.Epoch(0))
        {
            // A consumer slower than the producer fills the queue, so the producer waits for free buffers.
            if (batch.Index % 5 == 0)
                Thread.Sleep(5);
            actual.AddRange(batch.Images.ToArray());
        }

        Assert.Equal(expected, actual);
    }

    [Fact]
    public void AugmentedBatchesDifferFromPlain()
    {
        ImageDataset dataset = SyntheticDataset();
        var options = new DataLoaderOptions { BatchSize = 8, Seed = 5 };
        using var plain = new DataLoader(dataset, Normalization.Identity, options);
        using var augmented = new DataLoader(dataset, Normalization.Identity,
            options with { Augmentation = AugmentationOptions.Standard });

        var plainEpoch = ReadEpoch(plain, 0);
        var augmentedEpoch = ReadEpoch(augmented, 0);

        // Augmentation draws come after the shuffle, so the order is the same and only the pixels change.
        Assert.Equal(plainEpoch.SelectMany(b => b.Indices), augmentedEpoch.SelectMany(b => b.Indices));
        Assert.NotEqual(Flatten(plainEpoch), Flatten(augmentedEpoch));
    }

    [Fact]
    public void TransformsReproduceBatchImages()
    {
        ImageDataset dataset = SyntheticDataset();
        var options = new DataLoaderOptions { BatchSize = 8, Seed = 6, Augmentation = AugmentationOptions.Standard };
        using var loader = new DataLoader(dataset, Normalization.Identity, options);
        var pipeline = new ImagePipeline(options.Augmentation, Normalization.Identity, Side, Side);
        var expected = new float[Side * Side];
        int erased = 0;

        foreach (Batch batch in loader.Epoch(1))
        {
            Assert.Equal(batch.Count, batch.Transforms.Length);
            for (int i = 0; i < batch.Count; i++)
            {
                pipeline.Apply(dataset.Image(batch.SampleIndices[i]), expected, batch.Transforms[i]);
                Assert.Equal(expected, batch.Images.Slice(i * Side * Side, Side * Side).ToArray());
                if (batch.Transforms[i].EraseHeight > 0)
                    erased++;
            }
        }

        Assert.True(erased > 0, "No image of the epoch was erased, so erasing went unchecked.");
    }

    [Fact]
    public void TransformsAreIdentityWithoutAugmentation()
    {
        using var loader = new DataLoader(SyntheticDataset(), Normalization.Identity,
            new DataLoaderOptions { BatchSize = 16, Seed = 2 });

        foreach (Batch batch in loader.Epoch(0))
            Assert.All(batch.Transforms.ToArray(), transform => Assert.Equal(default, transform));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(2)]
    public void UnrenderedBatchesDrawTheSame(int prefetchDepth)
    {
        ImageDataset dataset = SyntheticDataset();
        var options = new DataLoaderOptions
        {
            BatchSize = 7, Seed = 10, Augmentation = AugmentationOptions.Standard, PrefetchDepth = prefetchDepth,
        };
        using var rendered = new DataLoader(dataset, Normalization.Identity, options);
        using var unrendered = new DataLoader(dataset, Normalization.Identity, options with { RenderImages = false });

        for (int epoch = 0; epoch < 2; epoch++)
        {
            var expected = new List<(int[] Indices, float[] Labels, SampleTransform[] Transforms)>();
            foreach (Batch batch in rendered.Epoch(epoch))
                expected.Add((batch.SampleIndices.ToArray(), batch.Labels.ToArray(), batch.Transforms.ToArray()));
            int b = 0;
            foreach (Batch batch in unrendered.Epoch(epoch))
            {
                Assert.False(batch.HasImages);
                Assert.Throws<InvalidOperationException>(() => batch.Images.Length);
                Assert.Equal(expected[b].Indices, batch.SampleIndices.ToArray());
                Assert.Equal(expected[b].Labels, batch.Labels.ToArray());
                Assert.Equal(expected[b].Transforms, batch.Transforms.ToArray());
                b++;
            }

            Assert.Equal(expected.Count, b);
        }
    }

    [Fact]
    public void BreakingOutStopsTheProducer()
    {
        using var loader = new DataLoader(SyntheticDataset(), Normalization.Identity,
            new DataLoaderOptions { BatchSize = 4, Seed = 8, PrefetchDepth = 2 });

        foreach (Batch batch in loader.Epoch(0))
        {
            if (batch.Index == 2)
                break;
        }

        var epoch = ReadEpoch(loader, 0); // the buffers are free again after the early break

        Assert.Equal(26, epoch.Count);
        Assert.Equal(Enumerable.Range(0, 103), epoch.SelectMany(b => b.Indices).Order());
    }

    [Fact]
    public void SecondConcurrentEpochIsRejected()
    {
        using var loader = new DataLoader(SyntheticDataset(), Normalization.Identity,
            new DataLoaderOptions { BatchSize = 4 });
        using IEnumerator<Batch> first = loader.Epoch(0).GetEnumerator();
        Assert.True(first.MoveNext());

        Assert.Throws<InvalidOperationException>(() => loader.Epoch(1).GetEnumerator());
    }

    [Fact]
    public void DisposedLoaderRejectsEpochs()
    {
        var loader = new DataLoader(SyntheticDataset(), Normalization.Identity,
            new DataLoaderOptions { BatchSize = 4, PrefetchDepth = 2 });
        IEnumerator<Batch> running = loader.Epoch(0).GetEnumerator();
        Assert.True(running.MoveNext());

        loader.Dispose();

        Assert.Throws<ObjectDisposedException>(() => running.MoveNext());
        Assert.Throws<ObjectDisposedException>(() => loader.Epoch(1).GetEnumerator());
    }

    [Theory]
    [InlineData(0)]
    [InlineData(2)]
    public void BatchesAllocateNothingAfterWarmUp(int prefetchDepth)
    {
        using var loader = new DataLoader(SyntheticDataset(1000), Normalization.Identity,
            new DataLoaderOptions
            {
                BatchSize = 10, Seed = 4, PrefetchDepth = prefetchDepth, Augmentation = AugmentationOptions.Standard,
            });
        long before = 0;
        float checksum = 0;

        foreach (Batch batch in loader.Epoch(0))
        {
            if (batch.Index == 2)
                before = GC.GetAllocatedBytesForCurrentThread();
            checksum += batch.Images[0] + batch.Labels[^1];
        }

        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(allocated == 0, $"{allocated} bytes allocated over 97 batches (checksum {checksum})");
    }

    [Fact]
    public void NormalizedSubsetHasZeroMeanUnitStd()
    {
        string root = FashionMnist.FindRepositoryRoot(AppContext.BaseDirectory)!;
        ImageDataset train = FashionMnist.LoadFrom(Path.Combine(root, "data", "fashion-mnist")).Train;
        Normalization normalization = Normalization.Compute(train);
        using var loader = new DataLoader(train, normalization, new DataLoaderOptions { BatchSize = 256, Seed = 1 });
        double sum = 0, sumOfSquares = 0;
        long count = 0;

        foreach (Batch batch in loader.Epoch(0))
        {
            foreach (float value in batch.Images)
            {
                sum += value;
                sumOfSquares += value * (double)value;
            }

            count += batch.Images.Length;
        }

        double mean = sum / count;
        double std = Math.Sqrt(sumOfSquares / count - mean * mean);
        Assert.Equal(2000L * 28 * 28, count);
        Assert.InRange(mean, -1e-4, 1e-4);
        Assert.InRange(std, 1 - 1e-4, 1 + 1e-4);
        // The full training set gives about 0.286 and 0.353; a balanced subset should land near them.
        Assert.InRange(normalization.Mean, 0.25, 0.32);
        Assert.InRange(normalization.Std, 0.32, 0.39);
    }
}
