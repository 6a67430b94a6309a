//! Why a photo is refused: one stable code per photo rule, with the words a student reads.
//! The automatic checks and the reviewers use the same codes.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    NoFace,
    MultipleFaces,
    FaceTooSmall,
    HeadTurned,
    HeadTilted,
    EyesClosed,
    MouthOpen,
    UnevenLighting,
    Underexposed,
    Overexposed,
    Blurry,
    ClothingMatchesBackground,
    ShouldersNotLevel,
    Selfie,
    CropOutOfFrame,
    LowResolution,
    NotAPhoto,
}

impl Reason {
    /// The stable code (as serialized).
    pub fn as_str(self) -> &'static str {
        use Reason::*;
        match self {
            NoFace => "no_face",
            MultipleFaces => "multiple_faces",
            FaceTooSmall => "face_too_small",
            HeadTurned => "head_turned",
            HeadTilted => "head_tilted",
            EyesClosed => "eyes_closed",
            MouthOpen => "mouth_open",
            UnevenLighting => "uneven_lighting",
            Underexposed => "underexposed",
            Overexposed => "overexposed",
            Blurry => "blurry",
            ClothingMatchesBackground => "clothing_matches_background",
            ShouldersNotLevel => "shoulders_not_level",
            Selfie => "selfie",
            CropOutOfFrame => "crop_out_of_frame",
            LowResolution => "low_resolution",
            NotAPhoto => "not_a_photo",
        }
    }

    /// (English, Chinese) for the student.
    pub fn messages(self) -> (&'static str, &'static str) {
        use Reason::*;
        match self {
            NoFace => ("No face was found. Face the camera.", "未检测到人脸，请正对镜头拍摄。"),
            MultipleFaces => {
                ("More than one face is in the photo. Only you may be in it.", "照片中有多张人脸，请单人拍摄。")
            }
            FaceTooSmall => (
                "Your face is too small. Come closer: half-body, to the chest.",
                "人脸过小，请靠近拍摄（半身至胸部）。",
            ),
            HeadTurned => ("Your head is turned. Look straight at the camera.", "头部偏转，请正对镜头。"),
            HeadTilted => {
                ("Your head is tilted. Keep it straight and shoulders level.", "头部倾斜，请保持端正、双肩水平。")
            }
            EyesClosed => ("Your eyes are closed. Keep them open.", "请睁开眼睛。"),
            MouthOpen => ("Your mouth is open. Close your lips, natural expression.", "请闭上嘴巴，保持自然表情。"),
            UnevenLighting => (
                "One side of your face is darker. Use even light, no shadows.",
                "面部光线不均（阴阳脸），请在均匀光线下拍摄。",
            ),
            Underexposed => ("The photo is too dark. Use good indoor light.", "照片过暗，请在光线充足的室内拍摄。"),
            Overexposed => {
                ("The photo is too bright. Avoid direct light or flash glare.", "照片过亮，请避免强光直射。")
            }
            Blurry => ("The photo is blurred. Hold the phone steady and focus.", "照片模糊，请保持手机稳定并对焦。"),
            ClothingMatchesBackground => (
                "Your clothes are too close to the background colour (no blue clothing). Change clothes.",
                "服装颜色与背景色过于接近（请勿穿蓝色衣服），请更换服装。",
            ),
            ShouldersNotLevel => ("Your shoulders are not level.", "双肩不水平，请端正坐姿。"),
            Selfie => (
                "This looks like a selfie. Ask someone to take it with the rear camera, half-body.",
                "疑似自拍，请他人使用手机后置摄像头拍摄半身照。",
            ),
            CropOutOfFrame => (
                "Part of you is outside the photo. Leave space around your head and shoulders.",
                "人像超出画面，请在头部和肩部周围留出空间。",
            ),
            LowResolution => (
                "The photo's resolution is too low. Use the phone's rear camera.",
                "照片分辨率过低，请使用手机后置摄像头拍摄。",
            ),
            NotAPhoto => (
                "The file is not a photo we can read (JPEG, PNG or WebP).",
                "文件不是可识别的照片（支持 JPEG、PNG、WebP）。",
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_what_serde_writes() {
        use Reason::*;
        for r in [
            NoFace,
            MultipleFaces,
            FaceTooSmall,
            HeadTurned,
            HeadTilted,
            EyesClosed,
            MouthOpen,
            UnevenLighting,
            Underexposed,
            Overexposed,
            Blurry,
            ClothingMatchesBackground,
            ShouldersNotLevel,
            Selfie,
            CropOutOfFrame,
            LowResolution,
            NotAPhoto,
        ] {
            assert_eq!(serde_json::to_value(r).expect("json"), serde_json::json!(r.as_str()));
        }
    }
}
