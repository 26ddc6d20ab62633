//! Reads `infra/template.json`, the deployable description of the service, so the
//! local stack is provisioned from the very definitions deployed to AWS.

use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection,
    ProjectionType, ScalarAttributeType, StreamSpecification, StreamViewType,
};
use serde::Deserialize;

use crate::ProvisionError;

/// The template, as shipped.
pub const TEMPLATE: &str = include_str!("../template.json");

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Template {
    resources: std::collections::BTreeMap<String, Resource>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Resource {
    #[serde(rename = "Type")]
    kind: String,
    #[serde(default)]
    properties: serde_json::Value,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct KeyElement {
    attribute_name: String,
    key_type: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct AttributeDef {
    attribute_name: String,
    attribute_type: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct IndexDef {
    index_name: String,
    key_schema: Vec<KeyElement>,
    projection: ProjectionDef,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ProjectionDef {
    projection_type: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct StreamDef {
    stream_view_type: String,
}

/// The table's definition, from the template's one `AWS::DynamoDB::Table`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct TableSpec {
    attribute_definitions: Vec<AttributeDef>,
    key_schema: Vec<KeyElement>,
    #[serde(default)]
    global_secondary_indexes: Vec<IndexDef>,
    #[serde(default)]
    stream_specification: Option<StreamDef>,
    #[serde(default)]
    time_to_live_specification: Option<TtlDef>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct TtlDef {
    attribute_name: String,
    enabled: bool,
}

impl TableSpec {
    /// The table described by [`TEMPLATE`].
    pub fn from_template() -> Result<Self, ProvisionError> {
        let template: Template =
            serde_json::from_str(TEMPLATE).map_err(|e| ProvisionError::Template(e.to_string()))?;
        let mut tables = template
            .resources
            .into_values()
            .filter(|r| r.kind == "AWS::DynamoDB::Table");
        let table = tables
            .next()
            .ok_or_else(|| ProvisionError::Template("no AWS::DynamoDB::Table".into()))?;
        if tables.next().is_some() {
            return Err(ProvisionError::Template(
                "more than one table: the design is single-table".into(),
            ));
        }
        serde_json::from_value(table.properties)
            .map_err(|e| ProvisionError::Template(e.to_string()))
    }

    /// Index names, in template order.
    pub fn index_names(&self) -> Vec<&str> {
        self.global_secondary_indexes
            .iter()
            .map(|i| i.index_name.as_str())
            .collect()
    }

    /// The key attribute names (hash, range) of the table or of index `index`.
    pub fn key_of(&self, index: Option<&str>) -> Option<(&str, &str)> {
        let schema = match index {
            None => &self.key_schema,
            Some(name) => {
                &self
                    .global_secondary_indexes
                    .iter()
                    .find(|i| i.index_name == name)?
                    .key_schema
            }
        };
        let find = |t: &str| {
            schema
                .iter()
                .find(|k| k.key_type == t)
                .map(|k| k.attribute_name.as_str())
        };
        Some((find("HASH")?, find("RANGE")?))
    }

    /// The time-to-live attribute, when the template enables one.
    pub fn ttl_attribute(&self) -> Option<&str> {
        self.time_to_live_specification
            .as_ref()
            .filter(|t| t.enabled)
            .map(|t| t.attribute_name.as_str())
    }

    /// Fills a CreateTable request for `table_name`.
    pub fn create_table(
        &self,
        client: &aws_sdk_dynamodb::Client,
        table_name: &str,
    ) -> Result<
        aws_sdk_dynamodb::operation::create_table::builders::CreateTableFluentBuilder,
        ProvisionError,
    > {
        let build =
            |e: aws_sdk_dynamodb::error::BuildError| ProvisionError::Template(e.to_string());
        let mut req = client
            .create_table()
            .table_name(table_name)
            .billing_mode(BillingMode::PayPerRequest);
        for a in &self.attribute_definitions {
            req = req.attribute_definitions(
                AttributeDefinition::builder()
                    .attribute_name(&a.attribute_name)
                    .attribute_type(ScalarAttributeType::from(a.attribute_type.as_str()))
                    .build()
                    .map_err(build)?,
            );
        }
        let key = |k: &KeyElement| {
            KeySchemaElement::builder()
                .attribute_name(&k.attribute_name)
                .key_type(KeyType::from(k.key_type.as_str()))
                .build()
                .map_err(build)
        };
        for k in &self.key_schema {
            req = req.key_schema(key(k)?);
        }
        for i in &self.global_secondary_indexes {
            let mut gsi = GlobalSecondaryIndex::builder()
                .index_name(&i.index_name)
                .projection(
                    Projection::builder()
                        .projection_type(ProjectionType::from(
                            i.projection.projection_type.as_str(),
                        ))
                        .build(),
                );
            for k in &i.key_schema {
                gsi = gsi.key_schema(key(k)?);
            }
            req = req.global_secondary_indexes(gsi.build().map_err(build)?);
        }
        if let Some(s) = &self.stream_specification {
            req = req.stream_specification(
                StreamSpecification::builder()
                    .stream_enabled(true)
                    .stream_view_type(StreamViewType::from(s.stream_view_type.as_str()))
                    .build()
                    .map_err(build)?,
            );
        }
        Ok(req)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use teleconf_adapters::store::keys;

    #[test]
    fn the_template_declares_the_keys_the_store_uses() {
        let spec = TableSpec::from_template().unwrap();
        assert_eq!(spec.key_of(None), Some((keys::PK, keys::SK)));
        assert_eq!(spec.index_names(), vec![keys::GSI1, keys::GSI2]);
        assert_eq!(
            spec.key_of(Some(keys::GSI1)),
            Some((keys::GSI1PK, keys::GSI1SK))
        );
        assert_eq!(
            spec.key_of(Some(keys::GSI2)),
            Some((keys::GSI2PK, keys::GSI2SK))
        );
        assert!(
            spec.global_secondary_indexes
                .iter()
                .all(|i| i.projection.projection_type == "ALL")
        );
        assert_eq!(
            spec.stream_specification.unwrap().stream_view_type,
            "NEW_AND_OLD_IMAGES"
        );
    }
}
