using SkiaSharp;

namespace FashionCuda.Cli.Plots;

/// <summary>One grey-scale picture of a grid: Height×Width values in [0, 1], row-major, with caption lines below.</summary>
public sealed record GridTile(float[] Values, int Height, int Width, IReadOnlyList<string> Caption)
{
    /// <summary>Optional H×W overlay in [0, 1], drawn in red over the grey picture (attention maps).</summary>
    public float[]? Overlay { get; init; }

    public int OverlayHeight { get; init; }

    public int OverlayWidth { get; init; }
}

/// <summary>Draws grids of small grey-scale images (filters, feature maps, test images) into PNG files with SkiaSharp.</summary>
public static class ImageGrid
{
    private const int Margin = 8;
    private const int TitleHeight = 28;
    private const int LineHeight = 14;
    private const int ScaleWidth = 160;
    private const int ScaleRowHeight = 9;
    private const int ScaleHeight = 2 * ScaleRowHeight + LineHeight + Margin;

    /// <summary>
    /// Writes the tiles in rows of <paramref name="columns"/>, each picture scaled by <paramref name="scale"/>
    /// with nearest-neighbour sampling, so single pixels of a 3×3 filter stay visible. When a tile has an
    /// overlay, a colour scale of the overlay (gate 0 to 1) goes under the title and each such tile's caption
    /// gets the overlay's value range.
    /// </summary>
    /// <returns>The width and height of the PNG in pixels.</returns>
    public static (int Width, int Height) Write(string path, string title, IReadOnlyList<GridTile> tiles,
        int columns, int scale)
    {
        if (tiles.Count == 0)
            throw new ArgumentException("An image grid needs at least one tile.", nameof(tiles));
        columns = Math.Clamp(columns, 1, tiles.Count);
        int rows = (tiles.Count + columns - 1) / columns;
        int tileWidth = tiles.Max(t => t.Width) * scale;
        int tileHeight = tiles.Max(t => t.Height) * scale;
        using var font = new SKFont(SKTypeface.Default, 12);
        using var titleFont = new SKFont(SKTypeface.Default, 15) { Embolden = true };
        using var ink = new SKPaint { Color = SKColors.Black, IsAntialias = true };
        var captions = tiles.Select(CaptionOf).ToList();
        bool overlays = tiles.Any(t => t.Overlay is not null);
        int scaleHeight = overlays ? ScaleHeight : 0;
        int captionLines = captions.Max(c => c.Count);
        float captionWidth = captions.SelectMany(c => c).Select(line => font.MeasureText(line)).DefaultIfEmpty(0).Max();
        int cellWidth = (int)Math.Ceiling(Math.Max(tileWidth, captionWidth)) + Margin;
        int cellHeight = tileHeight + captionLines * LineHeight + Margin;
        int titleWidth = (int)Math.Ceiling(titleFont.MeasureText(title)) + 2 * Margin;
        int scaleWidth = overlays ? (int)Math.Ceiling(ScaleRight(font) + font.MeasureText(ScaleNote)) + Margin : 0;
        int width = Math.Max(Margin + columns * cellWidth, Math.Max(titleWidth, scaleWidth));
        int height = TitleHeight + scaleHeight + Margin + rows * cellHeight;

        using var surface = SKSurface.Create(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Premul));
        var canvas = surface.Canvas;
        canvas.Clear(SKColors.White);
        canvas.DrawText(title, Margin, TitleHeight - 8, SKTextAlign.Left, titleFont, ink);
        if (overlays)
            DrawOverlayScale(canvas, TitleHeight, font, ink);
        for (int i = 0; i < tiles.Count; i++)
        {
            int x = Margin + i % columns * cellWidth;
            int y = TitleHeight + scaleHeight + Margin + i / columns * cellHeight;
            var tile = tiles[i];
            using (var bitmap = ToBitmap(tile))
            {
                var destination = new SKRect(x, y, x + tile.Width * scale, y + tile.Height * scale);
                using var image = SKImage.FromBitmap(bitmap);
                canvas.DrawImage(image, destination, new SKSamplingOptions(SKFilterMode.Nearest));
            }
            for (int line = 0; line < captions[i].Count; line++)
                canvas.DrawText(captions[i][line], x, y + tileHeight + (line + 1) * LineHeight - 2, SKTextAlign.Left,
                    font, ink);
        }
        using var snapshot = surface.Snapshot();
        using var png = snapshot.Encode(SKEncodedImageFormat.Png, 100);
        byte[] bytes = png.ToArray();
        Training.AtomicFile.Write(path, stream => stream.Write(bytes));
        return (width, height);
    }

    private const string ScaleNote = "gate value; upper bar over light pixels, lower bar over dark pixels";

    /// <summary>The tile's caption, plus the overlay's value range when it has one.</summary>
    private static IReadOnlyList<string> CaptionOf(GridTile tile)
    {
        if (tile.Overlay is not { Length: > 0 } overlay)
            return tile.Caption;
        var culture = System.Globalization.CultureInfo.InvariantCulture;
        float min = overlay.Min(), max = overlay.Max();
        string range = min.ToString("F2", culture) == max.ToString("F2", culture)
            ? string.Create(culture, $"gate {min:F2} everywhere")
            : string.Create(culture, $"gate {min:F2} to {max:F2}");
        return [.. tile.Caption, range];
    }

    /// <summary>
    /// Draws the overlay colour for gates 0 to 1 in two rows, over a white and over a black pixel, with the
    /// end values and a note to its right.
    /// </summary>
    private static void DrawOverlayScale(SKCanvas canvas, int top, SKFont font, SKPaint ink)
    {
        float left = Margin + font.MeasureText("0") + 4;
        using var paint = new SKPaint();
        for (int column = 0; column < ScaleWidth; column++)
        {
            float gate = column / (float)(ScaleWidth - 1);
            paint.Color = Blend(255, gate);
            canvas.DrawRect(left + column, top, 1, ScaleRowHeight, paint);
            paint.Color = Blend(0, gate);
            canvas.DrawRect(left + column, top + ScaleRowHeight, 1, ScaleRowHeight, paint);
        }
        using var frame = new SKPaint { Color = SKColors.Gray, Style = SKPaintStyle.Stroke };
        canvas.DrawRect(left, top, ScaleWidth, 2 * ScaleRowHeight, frame);
        float textY = top + ScaleRowHeight + 4;
        canvas.DrawText("0", Margin, textY, SKTextAlign.Left, font, ink);
        canvas.DrawText("1", left + ScaleWidth + 4, textY, SKTextAlign.Left, font, ink);
        canvas.DrawText(ScaleNote, ScaleRight(font), textY, SKTextAlign.Left, font, ink);
    }

    /// <summary>Returns the x coordinate where the note right of the overlay scale starts.</summary>
    private static float ScaleRight(SKFont font) =>
        Margin + font.MeasureText("0") + 4 + ScaleWidth + 4 + font.MeasureText("1") + 2 * Margin;

    /// <summary>Red over a grey pixel in proportion to the gate, at most 70 % opaque so the image shows through.</summary>
    private static SKColor Blend(byte grey, float gate)
    {
        float alpha = Math.Clamp(gate, 0f, 1f) * 0.7f;
        return new SKColor((byte)(grey + (255 - grey) * alpha), (byte)(grey * (1 - alpha)), (byte)(grey * (1 - alpha)));
    }

    /// <summary>Rescales values linearly so their minimum becomes 0 and maximum 1 (all 0.5 when they are equal).</summary>
    public static float[] Stretch(ReadOnlySpan<float> values)
    {
        float min = float.PositiveInfinity, max = float.NegativeInfinity;
        foreach (float value in values)
        {
            min = Math.Min(min, value);
            max = Math.Max(max, value);
        }
        var result = new float[values.Length];
        float range = max - min;
        for (int i = 0; i < values.Length; i++)
            result[i] = range > 0 ? (values[i] - min) / range : 0.5f;
        return result;
    }

    /// <summary>Converts byte pixels (0 background, 255 full intensity) to [0, 1] values.</summary>
    public static float[] FromBytes(ReadOnlySpan<byte> pixels)
    {
        var result = new float[pixels.Length];
        for (int i = 0; i < pixels.Length; i++)
            result[i] = pixels[i] / 255f;
        return result;
    }

    private static SKBitmap ToBitmap(GridTile tile)
    {
        var bitmap = new SKBitmap(tile.Width, tile.Height, SKColorType.Rgba8888, SKAlphaType.Premul);
        for (int row = 0; row < tile.Height; row++)
        {
            for (int column = 0; column < tile.Width; column++)
            {
                byte grey = (byte)Math.Round(Math.Clamp(tile.Values[row * tile.Width + column], 0f, 1f) * 255);
                var color = new SKColor(grey, grey, grey);
                if (tile.Overlay is { } overlay)
                {
                    // Nearest overlay cell; the gate may be coarser than the image (e.g. 7×7 over 28×28).
                    int overlayRow = row * tile.OverlayHeight / tile.Height;
                    int overlayColumn = column * tile.OverlayWidth / tile.Width;
                    color = Blend(grey, overlay[overlayRow * tile.OverlayWidth + overlayColumn]);
                }
                bitmap.SetPixel(column, row, color);
            }
        }
        return bitmap;
    }
}
