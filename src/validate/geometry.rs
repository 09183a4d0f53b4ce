//! The `geom` field: EWKT (`SRID=2154;POINT(…)`), hex EWKB, or WKT without SRID (FORMAT.md §4).
//! Parsed here with georust's `wkt` crate (and `geozero` for EWKB) so that a bad geometry is a row
//! problem with its line, never an ERROR in the middle of COPY; PostGIS parses and projects the
//! accepted ones. The structural rules checked are those PostGIS enforces when it reads a geometry.

use std::str::FromStr;

use geozero::wkt::{WktDialect, WktWriter};
use geozero::CoordDimensions;

use super::{ValueError, ValueResult};

/// Checks a geometry's text; returns its SRID when it names one.
pub fn check_geometry(text: &str) -> ValueResult<Option<i32>> {
    let text = text.trim();
    if is_hex(text) {
        let ewkt = ewkb_to_ewkt(text)?;
        return check_ewkt(&ewkt);
    }
    check_ewkt(text)
}

fn is_hex(text: &str) -> bool {
    text.len() >= 18 && text.len().is_multiple_of(2) && text.bytes().all(|b| b.is_ascii_hexdigit())
}

fn invalid_wkt(message: impl Into<String>) -> ValueError {
    ValueError::new("INVALID_WKT", message)
}

fn invalid_geometry(message: impl Into<String>) -> ValueError {
    ValueError::new("INVALID_GEOMETRY", message)
}

/// Hex EWKB → EWKT through geozero (the SRID, when present, becomes the `SRID=n;` prefix).
fn ewkb_to_ewkt(hex: &str) -> ValueResult<String> {
    let bytes: Vec<u8> = (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16))
        .collect::<Result<_, _>>()
        .map_err(|_| invalid_wkt("not hexadecimal EWKB"))?;
    let mut out = Vec::new();
    let mut writer = WktWriter::with_opts(&mut out, WktDialect::Ewkt, CoordDimensions::xy(), None);
    geozero::wkb::process_ewkb_geom(&mut bytes.as_slice(), &mut writer)
        .map_err(|e| invalid_wkt(format!("unreadable hex EWKB: {e}")))?;
    String::from_utf8(out).map_err(|_| invalid_wkt("unreadable hex EWKB"))
}

fn check_ewkt(text: &str) -> ValueResult<Option<i32>> {
    let (srid, wkt_text) = match text.get(..5) {
        Some(prefix) if prefix.eq_ignore_ascii_case("SRID=") => {
            let (srid, rest) = text[5..]
                .split_once(';')
                .ok_or_else(|| invalid_wkt("expected SRID=<number>;<WKT>"))?;
            let srid = srid
                .trim()
                .parse::<i32>()
                .map_err(|_| invalid_wkt("the SRID is not a number"))?;
            (Some(srid), rest)
        }
        _ => (None, text),
    };
    let geometry = wkt::Wkt::<f64>::from_str(wkt_text.trim())
        .map_err(|e| invalid_wkt(format!("unreadable WKT: {e}")))?;
    check_structure(&geometry)?;
    Ok(srid)
}

/// What PostGIS refuses when reading: too few points, unclosed rings, non-finite coordinates.
fn check_structure(geometry: &wkt::Wkt<f64>) -> ValueResult<()> {
    use wkt::Wkt;
    match geometry {
        Wkt::Point(p) => p.coord().map_or(Ok(()), check_coord),
        Wkt::LineString(l) => check_line(l.coords()),
        Wkt::Polygon(p) => p.rings().iter().try_for_each(|r| check_ring(r.coords())),
        Wkt::MultiPoint(m) => m
            .points()
            .iter()
            .try_for_each(|p| p.coord().map_or(Ok(()), check_coord)),
        Wkt::MultiLineString(m) => m
            .line_strings()
            .iter()
            .try_for_each(|l| check_line(l.coords())),
        Wkt::MultiPolygon(m) => m
            .polygons()
            .iter()
            .try_for_each(|p| p.rings().iter().try_for_each(|r| check_ring(r.coords()))),
        Wkt::GeometryCollection(c) => c.geometries().iter().try_for_each(check_structure),
    }
}

fn check_coord(c: &wkt::types::Coord<f64>) -> ValueResult<()> {
    if c.x.is_finite() && c.y.is_finite() {
        Ok(())
    } else {
        Err(invalid_geometry("a coordinate is not a finite number"))
    }
}

fn check_line(coords: &[wkt::types::Coord<f64>]) -> ValueResult<()> {
    if coords.len() == 1 {
        return Err(invalid_geometry("a line needs at least 2 points"));
    }
    coords.iter().try_for_each(check_coord)
}

fn check_ring(coords: &[wkt::types::Coord<f64>]) -> ValueResult<()> {
    if coords.is_empty() {
        return Ok(());
    }
    if coords.len() < 4 {
        return Err(invalid_geometry("a polygon ring needs at least 4 points"));
    }
    let (first, last) = (&coords[0], &coords[coords.len() - 1]);
    if first.x != last.x || first.y != last.y {
        return Err(invalid_geometry("a polygon ring is not closed"));
    }
    coords.iter().try_for_each(check_coord)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_three_spellings_are_accepted() {
        assert_eq!(
            check_geometry("SRID=2154;POINT(959204.517 6405928.812)").unwrap(),
            Some(2154)
        );
        assert_eq!(
            check_geometry("srid=4326;POLYGON((6 44,6.1 44,6.1 44.1,6 44.1,6 44))").unwrap(),
            Some(4326)
        );
        assert_eq!(check_geometry("POINT(1 2)").unwrap(), None);
        // A real CEN PACA geometry: hex EWKB, SRID 2154.
        assert_eq!(
            check_geometry("01010000206A080000B81E85EBCB61294148E17AA487FC5741").unwrap(),
            Some(2154)
        );
        assert_eq!(
            check_geometry("SRID=2154;MULTIPOLYGON(((0 0,1 0,1 1,0 0)),((5 5,6 5,6 6,5 5)))")
                .unwrap(),
            Some(2154)
        );
        assert!(check_geometry("GEOMETRYCOLLECTION(POINT(1 2),LINESTRING(0 0,1 1))").is_ok());
    }

    #[test]
    fn unreadable_text_is_invalid_wkt() {
        for bad in [
            "POINT(1)",
            "SRID=2154;PONT(1 2)",
            "SRID=abc;POINT(1 2)",
            "SRID=2154 POINT(1 2)",
            "01010000206A080000B81E85",
            "",
        ] {
            assert_eq!(
                check_geometry(bad).unwrap_err().code,
                "INVALID_WKT",
                "{bad}"
            );
        }
    }

    #[test]
    fn what_postgis_refuses_is_invalid_geometry() {
        for bad in [
            "POLYGON((0 0,1 0,1 1,0 0.5))",
            "POLYGON((0 0,1 0,0 0))",
            "LINESTRING(1 1)",
        ] {
            assert_eq!(
                check_geometry(bad).unwrap_err().code,
                "INVALID_GEOMETRY",
                "{bad}"
            );
        }
    }
}
