using System.Collections;
using System.Runtime.ExceptionServices;
using FashionCuda.Tensors;

namespace FashionCuda.Data;

/// <summary>Settings of a <see cref="DataLoader"/>.</summary>
public sealed record DataLoaderOptions
{
    public int BatchSize { get; init; } = 64;

    /// <summary>Whether each epoch visits the images in a new random order.</summary>
    public bool Shuffle { get; init; } = true;

    /// <summary>Whether a last batch smaller than <see cref="BatchSize"/> is skipped.</summary>
    public bool DropLast { get; init; }

    /// <summary>Seed of the shuffle and augmentation draws; epoch e uses <c>Rng(CounterRandom.Hash(Seed, e))</c>.</summary>
    public ulong Seed { get; init; }

    public AugmentationOptions Augmentation { get; init; } = AugmentationOptions.None;

    /// <summary>
    /// Batches a background thread may fill ahead of the consumer; 0 fills each batch on the consumer's thread.
    /// </summary>
    public int PrefetchDepth { get; init; } = 2;

    /// <summary>
    /// Whether batches carry their normalized, augmented pixels. A device source turns it off and renders the
    /// pixels on the device from <see cref="Batch.SampleIndices"/> and <see cref="Batch.Transforms"/>.
    /// </summary>
    public bool RenderImages { get; init; } = true;
}

/// <summary>
/// One batch in host memory: <see cref="Images"/> is N×C×H×W float32 (NCHW, normalized) and <see cref="Labels"/>
/// holds N class indices as float32, where N is <see cref="Count"/>. The loader reuses the arrays, so a batch is
/// valid only until the enumerator moves to the next batch or is disposed.
/// </summary>
public sealed class Batch
{
    private readonly float[] images; // capacity·C·H·W, or empty when the loader does not render images
    private readonly float[] labels; // capacity
    private readonly int[] sampleIndices; // capacity
    private readonly SampleTransform[] transforms; // capacity

    internal Batch(int capacity, int channels, int height, int width, bool hasImages = true)
    {
        Channels = channels;
        Height = height;
        Width = width;
        HasImages = hasImages;
        images = hasImages ? new float[(long)capacity * channels * height * width] : [];
        labels = new float[capacity];
        sampleIndices = new int[capacity];
        transforms = new SampleTransform[capacity];
    }

    public int Epoch { get; internal set; }

    /// <summary>Position of this batch in its epoch, from 0.</summary>
    public int Index { get; internal set; }

    public int Count { get; internal set; }

    public int Channels { get; }

    public int Height { get; }

    public int Width { get; }

    /// <summary>
    /// Whether <see cref="Images"/> is filled, which it is unless <see cref="DataLoaderOptions.RenderImages"/> is off.
    /// </summary>
    public bool HasImages { get; }

    public ReadOnlySpan<float> Images => HasImages
        ? images.AsSpan(0, Count * Channels * Height * Width)
        : throw new InvalidOperationException(
            "This batch has no pixels, because its loader was created with RenderImages off. Render them from " +
            "SampleIndices and Transforms.");

    public ReadOnlySpan<float> Labels => labels.AsSpan(0, Count);

    /// <summary>Indices into the dataset of the images in this batch, in batch order.</summary>
    public ReadOnlySpan<int> SampleIndices => sampleIndices.AsSpan(0, Count);

    /// <summary>The random choices applied to each image in batch order, all <c>default</c> unaugmented.</summary>
    public ReadOnlySpan<SampleTransform> Transforms => transforms.AsSpan(0, Count);

    internal Span<float> ImageBuffer => images;

    internal Span<float> LabelBuffer => labels;

    internal Span<int> IndexBuffer => sampleIndices;

    internal Span<SampleTransform> TransformBuffer => transforms;
}

/// <summary>
/// Yields shuffled, augmented and normalized batches of an <see cref="ImageDataset"/> into reused host buffers,
/// optionally filled ahead by a background thread. It depends on no backend: a batch source uploads
/// <see cref="Batch.Images"/> and <see cref="Batch.Labels"/>, or renders the images on a device from
/// <see cref="Batch.SampleIndices"/> and <see cref="Batch.Transforms"/>.
/// </summary>
/// <remarks>
/// Every batch is a function of (seed, epoch, batch index) only. The epoch's generator is drawn first for the
/// shuffle and then for each image's augmentation in batch order, and all these draws happen on one thread in
/// that order, so prefetching and thread timing never change the batches.
/// </remarks>
public sealed class DataLoader : IDisposable
{
    private readonly ImageDataset dataset;
    private readonly ImagePipeline pipeline;
    private readonly Batch[] buffers; // PrefetchDepth + 1, allocated once and reused by every epoch
    private readonly int[] order; // dataset.Count, the epoch's permutation
    private EpochEnumerator? activeEpoch;
    private bool disposed;

    public DataLoader(ImageDataset dataset, Normalization normalization, DataLoaderOptions options)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.BatchSize, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(options.PrefetchDepth);
        this.dataset = dataset;
        Options = options;
        pipeline = new ImagePipeline(options.Augmentation, normalization, dataset.Height, dataset.Width,
            dataset.Channels);
        BatchCapacity = Math.Min(options.BatchSize, Math.Max(dataset.Count, 1));
        buffers = new Batch[options.PrefetchDepth + 1];
        for (int i = 0; i < buffers.Length; i++)
            buffers[i] = new Batch(BatchCapacity, dataset.Channels, dataset.Height, dataset.Width,
                options.RenderImages);
        order = new int[dataset.Count];
    }

    public DataLoaderOptions Options { get; }

    public Normalization Normalization => pipeline.Normalization;

    public int DatasetCount => dataset.Count;

    /// <summary>Maximum images in one batch: the batch size, or the dataset's count (at least 1) if smaller.</summary>
    public int BatchCapacity { get; }

    public int BatchesPerEpoch => Options.DropLast
        ? dataset.Count / Options.BatchSize
        : (dataset.Count + Options.BatchSize - 1) / Options.BatchSize;

    /// <summary>
    /// Returns the batches of epoch <paramref name="epoch"/> (from 0). Only one epoch may be enumerated at a time,
    /// because all epochs share the loader's buffers.
    /// </summary>
    public IEnumerable<Batch> Epoch(int epoch)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(epoch);
        return new EpochBatches(this, epoch);
    }

    public void Dispose()
    {
        if (disposed)
            return;
        disposed = true;
        activeEpoch?.Dispose();
    }

    private EpochEnumerator StartEpoch(int epoch)
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        if (activeEpoch is not null)
            throw new InvalidOperationException(
                "Another epoch of this loader is still being enumerated; finish or dispose it first.");
        activeEpoch = new EpochEnumerator(this, epoch);
        return activeEpoch;
    }

    /// <summary>Draws the permutation of the epoch, or the identity when shuffling is off.</summary>
    private void PrepareOrder(Rng rng)
    {
        for (int i = 0; i < order.Length; i++)
            order[i] = i;
        if (Options.Shuffle)
            rng.Shuffle(order.AsSpan());
    }

    private void FillBatch(Batch batch, int epoch, int batchIndex, Rng rng)
    {
        int start = batchIndex * Options.BatchSize;
        int count = Math.Min(Options.BatchSize, dataset.Count - start);
        int pixels = dataset.PixelsPerImage;
        batch.Epoch = epoch;
        batch.Index = batchIndex;
        batch.Count = count;
        for (int i = 0; i < count; i++)
        {
            int sample = order[start + i];
            SampleTransform transform = pipeline.Augmentation.IsEnabled ? pipeline.Draw(rng) : default;
            if (batch.HasImages)
                pipeline.Apply(dataset.Image(sample), batch.ImageBuffer.Slice(i * pixels, pixels), transform);
            batch.LabelBuffer[i] = dataset.Labels[sample];
            batch.IndexBuffer[i] = sample;
            batch.TransformBuffer[i] = transform;
        }
    }

    private sealed class EpochBatches(DataLoader loader, int epoch) : IEnumerable<Batch>
    {
        public IEnumerator<Batch> GetEnumerator() => loader.StartEpoch(epoch);

        IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
    }

    /// <summary>
    /// Enumerates one epoch. Without prefetch it fills buffer 0 on each <see cref="MoveNext"/>. With prefetch a
    /// producer thread takes buffers from the free queue, fills them in batch order and puts them in the ready
    /// queue, and the consumer hands its previous batch back to the free queue when it moves on.
    /// </summary>
    private sealed class EpochEnumerator : IEnumerator<Batch>
    {
        private readonly DataLoader loader;
        private readonly int epoch;
        private readonly int batchCount;
        private readonly Rng rng;
        private readonly object gate = new();
        private readonly BatchQueue free;
        private readonly BatchQueue ready;
        private Thread? producer;
        private Batch? current;
        private int nextBatch;
        private bool producerFinished;
        private bool stopping;
        private bool disposed;
        private ExceptionDispatchInfo? producerError;

        public EpochEnumerator(DataLoader loader, int epoch)
        {
            this.loader = loader;
            this.epoch = epoch;
            batchCount = loader.BatchesPerEpoch;
            rng = new Rng(CounterRandom.Hash(loader.Options.Seed, (ulong)epoch));
            free = new BatchQueue(loader.buffers.Length);
            ready = new BatchQueue(loader.buffers.Length);
            foreach (Batch buffer in loader.buffers)
                free.Enqueue(buffer);
        }

        public Batch Current => current ?? throw new InvalidOperationException("MoveNext has not returned true.");

        object IEnumerator.Current => Current;

        public bool MoveNext()
        {
            ObjectDisposedException.ThrowIf(disposed, this);
            return loader.Options.PrefetchDepth == 0 ? MoveNextInline() : MoveNextPrefetched();
        }

        public void Reset() => throw new NotSupportedException("Start a new epoch with DataLoader.Epoch instead.");

        public void Dispose()
        {
            if (disposed)
                return;
            disposed = true;
            lock (gate)
            {
                stopping = true;
                Monitor.PulseAll(gate);
            }

            // The producer notices the stop flag after the batch it is filling, so the join is short.
            producer?.Join();
            current = null;
            if (ReferenceEquals(loader.activeEpoch, this))
                loader.activeEpoch = null;
        }

        private bool MoveNextInline()
        {
            if (nextBatch == 0)
                loader.PrepareOrder(rng);
            if (nextBatch >= batchCount)
            {
                current = null;
                return false;
            }

            Batch batch = loader.buffers[0];
            loader.FillBatch(batch, epoch, nextBatch++, rng);
            current = batch;
            return true;
        }

        private bool MoveNextPrefetched()
        {
            if (producer is null)
            {
                producer = new Thread(Produce) { IsBackground = true, Name = "FashionCuda batch prefetch" };
                producer.Start();
            }

            lock (gate)
            {
                if (current is not null)
                {
                    free.Enqueue(current);
                    current = null;
                    Monitor.PulseAll(gate);
                }

                while (ready.Count == 0 && !producerFinished)
                    Monitor.Wait(gate);
                if (ready.Count > 0)
                {
                    current = ready.Dequeue();
                    return true;
                }
            }

            producerError?.Throw();
            return false;
        }

        private void Produce()
        {
            try
            {
                loader.PrepareOrder(rng);
                for (int batchIndex = 0; batchIndex < batchCount; batchIndex++)
                {
                    Batch batch;
                    lock (gate)
                    {
                        while (free.Count == 0 && !stopping)
                            Monitor.Wait(gate);
                        if (stopping)
                            return;
                        batch = free.Dequeue();
                    }

                    loader.FillBatch(batch, epoch, batchIndex, rng);
                    lock (gate)
                    {
                        ready.Enqueue(batch);
                        Monitor.PulseAll(gate);
                    }
                }
            }
            catch (Exception ex)
            {
                // Handed to the consumer, which rethrows it after the batches that were filled before it.
                producerError = ExceptionDispatchInfo.Capture(ex);
            }
            finally
            {
                lock (gate)
                {
                    producerFinished = true;
                    Monitor.PulseAll(gate);
                }
            }
        }
    }

    /// <summary>A fixed-capacity FIFO ring, so moving buffers between threads allocates nothing.</summary>
    private sealed class BatchQueue(int capacity)
    {
        private readonly Batch[] items = new Batch[capacity];
        private int head;

        public int Count { get; private set; }

        public void Enqueue(Batch batch)
        {
            items[(head + Count) % items.Length] = batch;
            Count++;
        }

        public Batch Dequeue()
        {
            Batch batch = items[head];
            head = (head + 1) % items.Length;
            Count--;
            return batch;
        }
    }
}
