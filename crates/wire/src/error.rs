use std::fmt;

/// An error as it goes on the wire: `{"__type": code, "message": message}` with the status AWS
/// uses for that exception. Every layer's error becomes one of these exactly once.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiError {
    pub code: &'static str,
    pub message: String,
}

impl ApiError {
    pub fn new(code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            code,
            message: message.into(),
        }
    }

    /// HTTP status for this exception: AWS answers client faults with 400.
    pub fn status(&self) -> u16 {
        match self.code {
            "InternalErrorException" | "InternalServerException" => 500,
            "ForbiddenException" => 403,
            "RequestEntityTooLargeException" => 413,
            _ => 400,
        }
    }

    pub fn serialization(message: impl Into<String>) -> Self {
        Self::new("SerializationException", message)
    }

    pub fn invalid_parameter(message: impl Into<String>) -> Self {
        Self::new("InvalidParameterException", message)
    }

    pub fn not_implemented(operation: &str) -> Self {
        Self::new(
            "UnsupportedOperationException",
            format!("Gatehouse does not implement {operation} yet."),
        )
    }

    pub fn internal() -> Self {
        Self::new("InternalErrorException", "An internal error occurred.")
    }

    /// The JSON body AWS sends.
    pub fn body(&self) -> Vec<u8> {
        serde_json::to_vec(&serde_json::json!({"__type": self.code, "message": self.message}))
            .expect("error body serialises")
    }
}

impl fmt::Debug for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl std::error::Error for ApiError {}
