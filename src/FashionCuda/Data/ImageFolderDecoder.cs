using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;

namespace FashionCuda.Data;

/// <summary>An image file that could not be decoded; the message is one line, without the path.</summary>
public sealed class ImageDecodeException(string message, Exception? innerException = null)
    : Exception(message, innerException);

/// <summary>Decodes one photo with ImageSharp into the C×S×S bytes of an <see cref="ImageTransform"/>.</summary>
public static class ImageFolderDecoder
{
    /// <summary>Extensions read as images (compared without case): JPEG, PNG, BMP, GIF and WebP.</summary>
    public static readonly string[] Extensions = [".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp"];

    /// <summary>
    /// Largest image decoded, in pixels: at 4 bytes per RGBA pixel it takes 400 MB, and folders are decoded in
    /// parallel, one image per core.
    /// </summary>
    public const long MaxPixels = 100_000_000;

    public static bool HasImageExtension(string path) =>
        Extensions.Contains(Path.GetExtension(path), StringComparer.OrdinalIgnoreCase);

    /// <summary>
    /// Decodes <paramref name="path"/> into <paramref name="destination"/> (C·S·S bytes, CHW). Throws
    /// <see cref="ImageDecodeException"/> when the file is empty, truncated, damaged or not an image.
    /// </summary>
    public static void Decode(string path, ImageTransform transform, Span<byte> destination)
    {
        int size = transform.Size;
        if (destination.Length != transform.Channels * size * size)
            throw new ArgumentException(
                $"The destination has {destination.Length} bytes; {transform.Channels}×{size}×{size} are needed.");
        using var image = Load(path);
        image.Mutate(context => context.AutoOrient());
        var (scaledWidth, scaledHeight) = ScaledSize(image.Width, image.Height, size, transform.Resize);
        if (scaledWidth != image.Width || scaledHeight != image.Height)
            image.Mutate(context => context.Resize(scaledWidth, scaledHeight));
        var pixels = new Rgba32[scaledWidth * scaledHeight];
        image.CopyPixelDataTo(pixels);
        Place(pixels, scaledWidth, scaledHeight, transform, destination);
    }

    /// <summary>
    /// Returns the size the image is resized to before the centre crop or pad: the short side (crop) or the long
    /// side (pad) becomes <paramref name="size"/>, and the other side keeps the aspect ratio, rounded, at least 1.
    /// </summary>
    public static (int Width, int Height) ScaledSize(int width, int height, int size, ResizeMode resize)
    {
        int reference = resize == ResizeMode.Crop ? Math.Min(width, height) : Math.Max(width, height);
        if (reference == size)
            return (width, height);
        double scale = (double)size / reference;
        int scaledWidth = width == reference ? size : Math.Max(1, (int)Math.Round(width * scale));
        int scaledHeight = height == reference ? size : Math.Max(1, (int)Math.Round(height * scale));
        return (scaledWidth, scaledHeight);
    }

    private static Image<Rgba32> Load(string path)
    {
        long length;
        try
        {
            var info = new FileInfo(path);
            if (!info.Exists)
                throw new ImageDecodeException("not found");
            length = info.Length;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ImageDecodeException($"cannot be read ({e.Message})", e);
        }
        if (length == 0)
            throw new ImageDecodeException("the file is empty");
        try
        {
            // Identify reads only the header, so an oversized image is rejected before its pixels are allocated.
            // ImageSharp returns null for some damaged files; Load below then raises the matching error.
            IImageInfo? info = Image.Identify(path);
            if (info is not null && (long)info.Width * info.Height > MaxPixels)
                throw new ImageDecodeException(
                    $"{info.Width}×{info.Height} is {(long)info.Width * info.Height / 1_000_000} megapixels, above " +
                    $"the limit of {MaxPixels / 1_000_000}; downscale the image");
            return Image.Load<Rgba32>(path);
        }
        catch (UnknownImageFormatException e)
        {
            throw new ImageDecodeException("not an image in a format ImageSharp decodes", e);
        }
        catch (InvalidImageContentException e)
        {
            throw new ImageDecodeException($"damaged or truncated ({FirstLine(e.Message)})", e);
        }
        catch (Exception e) when (e is ImageFormatException or NotSupportedException)
        {
            throw new ImageDecodeException($"cannot be decoded ({FirstLine(e.Message)})", e);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ImageDecodeException($"cannot be read ({e.Message})", e);
        }
        catch (Exception e) when (e is IndexOutOfRangeException or ArgumentException or InvalidOperationException)
        {
            // Decoders of damaged files can fail outside their own exception types.
            throw new ImageDecodeException($"damaged ({e.GetType().Name}: {FirstLine(e.Message)})", e);
        }
    }

    /// <summary>
    /// Centres the scaled RGBA pixels on the S×S output, cropping what is outside and leaving black where the
    /// image does not reach, and writes each channel plane. Transparent pixels are composited over white.
    /// </summary>
    private static void Place(ReadOnlySpan<Rgba32> pixels, int width, int height, ImageTransform transform,
        Span<byte> destination)
    {
        int size = transform.Size;
        int plane = size * size;
        destination.Clear();
        int offsetX = (size - width) / 2; // negative when cropping
        int offsetY = (size - height) / 2;
        for (int y = 0; y < size; y++)
        {
            int sourceY = y - offsetY;
            if ((uint)sourceY >= (uint)height)
                continue;
            for (int x = 0; x < size; x++)
            {
                int sourceX = x - offsetX;
                if ((uint)sourceX >= (uint)width)
                    continue;
                var pixel = pixels[sourceY * width + sourceX];
                byte r = OverWhite(pixel.R, pixel.A);
                byte g = OverWhite(pixel.G, pixel.A);
                byte b = OverWhite(pixel.B, pixel.A);
                int index = y * size + x;
                if (transform.Channels == 1)
                {
                    destination[index] = Luma(r, g, b);
                }
                else
                {
                    destination[index] = r;
                    destination[plane + index] = g;
                    destination[2 * plane + index] = b;
                }
            }
        }
    }

    /// <summary>Composites one channel value over white: value·α + 255·(1 − α), rounded.</summary>
    public static byte OverWhite(byte value, byte alpha) =>
        (byte)((value * alpha + 255 * (255 - alpha) + 127) / 255);

    /// <summary>ITU-R BT.601 luma 0.299 R + 0.587 G + 0.114 B, rounded; a grey pixel keeps its value exactly.</summary>
    public static byte Luma(byte r, byte g, byte b) => (byte)((299 * r + 587 * g + 114 * b + 500) / 1000);

    private static string FirstLine(string message)
    {
        int end = message.IndexOfAny(['\r', '\n']);
        return (end < 0 ? message : message[..end]).TrimEnd('.', ':', ' ');
    }
}
